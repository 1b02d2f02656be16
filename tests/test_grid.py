"""The comparison grid: parallel and sequential agree, a local Dask cluster
agrees, the store takes concurrent writers, and a long grid's failure modes
(a bad corpus, a NaN run, a damaged record) end as they should."""
import json
import os
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest

from sertools import store as store_mod
from sertools.results import compare, read_table
from sertools.store import RunStore
from sertools.train import RunRecord, TrainingError

# a deep and a classic method, two seeds (and the all-label ceiling): enough to compare tables, cheap for CI
GRID = dict(methods=["supervised", "svm"], seeds=2, preset="quick", progress=False)
SAME = ["method", "f1", "wa", "ua", "ua_per_seed", "ua_diff", "p_value", "verdict", "seeds"]


@pytest.fixture(scope="module")
def sequential(tmp_path_factory):
    out = tmp_path_factory.mktemp("seq")
    return compare(**GRID, out=out)


def test_parallel_grid_gives_the_sequential_table(sequential, tmp_path):
    parallel = compare(**GRID, out=tmp_path, jobs=2)
    pd.testing.assert_frame_equal(sequential[SAME], parallel[SAME])


def test_a_local_dask_cluster_gives_the_sequential_table(sequential, tmp_path):
    pytest.importorskip("dask.distributed")
    clustered = compare(**GRID, out=tmp_path, jobs=2, scheduler="local")   # two workers on 127.0.0.1
    pd.testing.assert_frame_equal(sequential[SAME], clustered[SAME])


def test_a_finished_grid_comes_back_from_the_store(sequential, tmp_path, monkeypatch):
    out = tmp_path / "again"
    compare(**GRID, out=out)
    monkeypatch.setattr(store_mod, "run_any", lambda *a, **k: pytest.fail("recomputed a stored cell"))
    again = compare(**GRID, out=out)
    pd.testing.assert_frame_equal(sequential[SAME], again[SAME])


def _fake_record(method="svm"):
    return RunRecord(method, {"seed": 0}, metrics={"ua": 50.0, "wa": 50.0, "f1": 50.0, "macro_f1": 50.0})


def test_two_writers_on_one_key_compute_it_once(tmp_path, monkeypatch):
    calls = []

    def slow_run(method, **kw):
        calls.append(method)
        time.sleep(1.0)
        return _fake_record(method)

    monkeypatch.setattr(store_mod, "run_any", slow_run)
    monkeypatch.setattr(store_mod, "POLL", 0.05)
    got = []
    threads = [threading.Thread(target=lambda: got.append(RunStore(tmp_path).run("svm", preset="quick")))
               for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert calls == ["svm"] and len(got) == 2 and all(r.metrics["ua"] == 50.0 for r in got)
    assert not list((tmp_path / "runs").glob(".lock-*")) and not list((tmp_path / "runs").glob(".tmp-*"))


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    key = store.key("svm", "builtin", "quick", {"seed": 0})
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock = tmp_path / "runs" / f".lock-{key}"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"host": os.uname().nodename, "pid": int(dead.stdout), "time": time.time()}))
    monkeypatch.setattr(store_mod, "run_any", lambda method, **kw: _fake_record(method))
    assert store.run("svm", preset="quick").metrics["ua"] == 50.0      # an interrupted grid resumes
    assert not lock.exists()


def test_a_live_lock_is_respected(tmp_path):
    store = RunStore(tmp_path)
    assert store.claim("k") and not store.claim("k")                  # this process holds it
    store.release("k")
    assert store.claim("k")


def test_a_damaged_record_is_reported_and_recomputed(tmp_path, monkeypatch, capsys):
    store = RunStore(tmp_path)
    monkeypatch.setattr(store_mod, "run_any", lambda method, **kw: _fake_record(method))
    store.run("svm", preset="quick")
    key = store.key("svm", "builtin", "quick", {"seed": 0})
    (store.path(key) / "record.json").write_text("{ not json")
    rec = store.run("svm", preset="quick")
    assert rec.metrics["ua"] == 50.0 and len(store.damaged) == 1 and key in store.damaged[0]
    assert "damaged" in capsys.readouterr().err
    assert RunStore(tmp_path).get(key) is not None                     # stored again, readable


def test_a_nan_run_becomes_a_failed_row_and_the_grid_goes_on(tmp_path, monkeypatch):
    real = store_mod.run_any

    def nan_for_fixmatch(method, **kw):
        if method == "fixmatch" and kw.get("seed") == 1:
            raise TrainingError("fixmatch: the loss became nan at step 7 of 60 (loss parts: {'loss': nan})")
        return real(method, **kw)

    monkeypatch.setattr(store_mod, "run_any", nan_for_fixmatch)
    df = compare(["supervised", "fixmatch"], seeds=2, preset="quick", out=tmp_path,
                 progress=False, ceiling=False).set_index("method")
    assert df.loc["fixmatch", "failed"] == 1 and df.loc["fixmatch", "seeds"] == 1
    assert df.loc["supervised", "seeds"] == 2
    md = (tmp_path / "results.md").read_text()
    assert "fixmatch (1 failed)" in md and "step 7 of 60" in md
    assert "fixmatch (seed 1): failed: fixmatch: the loss became nan at step 7" in (tmp_path / "failures.txt").read_text()


def test_train_command_reports_a_nan_without_a_traceback(tmp_path, monkeypatch, capsys):
    from sertools import cli

    def nan(method, **kw):
        raise TrainingError("supervised: the loss became nan at step 3 of 60 (loss parts: {'loss': nan})")

    monkeypatch.setattr(store_mod, "run_any", nan)
    assert cli.main(["train", "--method", "supervised", "--preset", "quick", "--out", str(tmp_path), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "training stopped" in err and "step 3 of 60" in err and "Traceback" not in err


def test_compare_on_a_missing_corpus_ends_at_once_with_the_layout(tmp_path):
    p = subprocess.run([sys.executable, "-m", "sertools", "compare", "--methods", "supervised,fixmatch", "--seeds",
                        "3", "--corpus", f"folder:{tmp_path / 'nope'}", "--out", str(tmp_path / "res"), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr and p.stderr.count("error:") == 1
    assert "labels.csv" in p.stderr                                      # the layout the folder must have
    assert not (tmp_path / "res" / "results.csv").exists()


def test_bad_jobs_value_is_refused(tmp_path):
    from sertools import cli
    assert cli.main(["compare", "--methods", "svm", "--jobs", "many", "--out", str(tmp_path)]) == 2


# a smaller corpus than quick's for the two sweep tests (they make one corpus per agreement rate)
SMALL_CORPUS = dict(n_train=96, n_unlabeled=144, n_val=48, n_test=60)


def test_sweep_over_the_agreement_rate_writes_its_table_and_figure(tmp_path):
    from sertools import cli
    # a face teacher of 4 epochs: the test asks only that its labels follow the faces' agreement
    small = [a for k, v in {**SMALL_CORPUS, "face_epochs": 4}.items() for a in ("--set", f"{k}={v}")]
    assert cli.main(["sweep", "--agreements", "0.5,1.0", "--methods", "supervised,fusion_consistent", "--seeds", "1",
                     "--preset", "quick", "--out", str(tmp_path), "--quiet", *small]) == 0
    df = read_table(tmp_path / "sweep.csv")
    assert sorted(set(df["agreement"])) == [0.5, 1.0] and set(df["method"]) == {"supervised", "fusion_consistent"}
    assert df["ua"].between(0, 100).all() and (df["seeds"] == 1).all()
    face = df[df["method"] == "fusion_consistent"].set_index("agreement")["face_label_acc"]
    assert face[1.0] > face[0.5]            # the teacher's labels match the voice more often when faces agree
    assert (tmp_path / "sweep.csv").exists() and (tmp_path / "sweep.png").stat().st_size > 1000
    # supervised never reads the faces: trained once, at the first rate, and reported at both
    # one seed: no paired test, and the verdict says so ("n/a", which pd.read_csv alone would make NaN)
    assert (df.loc[df["method"] == "fusion_consistent", "verdict"] == "n/a").all()
    assert df.loc[df["method"] == "fusion_consistent", "ua_diff"].notna().all()
    sup = df[df["method"] == "supervised"]
    assert (sup["computed_at"] == 0.5).all() and sup["ua"].nunique() == 1
    assert len(list((tmp_path / "runs").glob("supervised-*"))) == 1


def test_the_agreement_rate_changes_only_the_faces():
    """Why a face-blind method's sweep row may repeat: the waves, labels and splits are the
    same at every rate, and only which faces agree with the voice changes."""
    import numpy as np
    from sertools.config import get_config
    from sertools.synth.corpus import builtin_corpus
    a, b = (builtin_corpus(get_config("quick", face_voice_agreement=r, **SMALL_CORPUS)[0], progress=False)
            for r in (0.5, 1.0))
    assert all(np.array_equal(x, y) for x, y in zip(a.waves, b.waves))
    assert a.table[["split", "speaker", "label"]].equals(b.table[["split", "speaker", "label"]])
    assert (a.table["face_label"] != b.table["face_label"]).mean() > 0.2
