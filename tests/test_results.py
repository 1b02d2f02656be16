"""The results store, the paper's table and the compare command."""
import os
import subprocess
import sys

import pandas as pd
import pytest

from sertools import store as store_mod
from sertools.results import COLUMNS, compare, run_comparison, table_markdown
from sertools.store import RunStore
from sertools.viz import save_comparison_plots


def test_store_reuses_an_identical_run(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    first = store.run("svm", seed=0, preset="quick", progress=False)
    calls = []
    monkeypatch.setattr(store_mod, "run_any", lambda *a, **k: calls.append(a) or pytest.fail("retrained"))
    again = store.run("svm", seed=0, preset="quick", progress=False)
    assert calls == [] and again.metrics == pytest.approx(first.metrics)
    assert list(again.y_pred) == list(first.y_pred)


def test_store_key_changes_with_config_and_seed(tmp_path):
    store = RunStore(tmp_path)
    k = store.key("svm", "builtin", "quick", {"seed": 0})
    assert k != store.key("svm", "builtin", "quick", {"seed": 1})
    assert k != store.key("svm", "builtin", "quick", {"seed": 0, "n_labeled": 5})
    assert k != store.key("gmm", "builtin", "quick", {"seed": 0})
    assert k == store.key("svm", "builtin", "quick", {"seed": 0})


def test_store_key_ignores_knobs_a_method_does_not_use(tmp_path):
    store = RunStore(tmp_path)
    key = lambda m, **o: store.key(m, "builtin", "quick", {"seed": 0, **o})  # noqa: E731
    assert key("supervised") == key("supervised", tau=0.5, alpha=0.9)   # supervised uses neither
    assert key("fixmatch") == key("fixmatch", tau=0.95)                  # None means the default, 0.95
    assert key("fixmatch") != key("fixmatch", tau=0.9)
    assert key("fusion_consistent") == key("fusion_consistent", alpha=0.9)
    assert key("fusion_consistent") != key("fusion_consistent", epsilon=0.1)
    assert key("supervised") == key("supervised", face_teacher="fer2013", aggregate="max")  # no face teacher
    assert key("dcmkt") != key("dcmkt", face_teacher="fer2013")
    assert key("dcmkt") != key("dcmkt", aggregate="max")


def test_compare_keeps_finished_runs_when_one_fails(tmp_path, monkeypatch):
    real = store_mod.run_any

    def flaky(method, **kw):
        if method == "gmm":
            raise RuntimeError("boom")
        return real(method, **kw)

    monkeypatch.setattr(store_mod, "run_any", flaky)
    df = compare(["svm", "gmm"], seeds=1, preset="quick", out=tmp_path, progress=False)
    assert list(df["method"]) == ["svm", "gmm"]                     # the failed method keeps a row
    assert df.set_index("method").loc["gmm", "failed"] == 1 and df.set_index("method").loc["gmm", "seeds"] == 0
    assert "gmm (seed 0): RuntimeError: boom" in (tmp_path / "failures.txt").read_text()
    assert len(list((tmp_path / "runs").glob("svm-*"))) == 1
    assert not list((tmp_path / "runs").glob(".tmp-*"))  # nothing half-written left behind


def test_results_csv_has_every_method_and_the_documented_columns(tmp_path):
    save_comparison_plots(run_comparison(["gmm", "svm"], seeds=2, preset="quick", out=tmp_path, progress=False))
    df = pd.read_csv(tmp_path / "results.csv")
    assert list(df.columns[: len(COLUMNS)]) == COLUMNS
    assert sorted(df["method"]) == ["gmm", "svm"]
    assert (df["seeds"] == 2).all() and (df["ua"].between(0, 100)).all()
    assert (tmp_path / "metrics.png").stat().st_size > 1000


def test_table_follows_the_papers_grouping_and_order():
    verdict = {"fusion_weighted": "better", "fixmatch": "worse", "svm": "worse", "dcmkt": "worse", "supervised": ""}
    df = pd.DataFrame([{"method": m, "f1": 50.0, "f1_std": 1.0, "wa": 50.0, "wa_std": 1.0, "ua": u, "ua_std": 1.0,
                        "seconds": 1.0, "verdict": verdict[m]}
                       for m, u in [("fusion_weighted", 60.0), ("svm", 40.0),
                                    ("fixmatch", 45.0), ("supervised", 50.0), ("dcmkt", 30.0)]])
    md = table_markdown(df)
    order = [line.split("|")[2].strip() for line in md.splitlines() if line.startswith("| ") and "±" in line]
    assert order == ["supervised", "fixmatch", "dcmkt", "fusion_weighted", "svm"]
    assert "| SSL and CMKT | fusion_weighted | 50.00 ± 1.00 | 50.00 ± 1.00 | 60.00 ± 1.00 ▲" in md
    assert "| Semi-supervised | fixmatch |" in md and "45.00 ± 1.00 ▼" in md


def test_compare_command_end_to_end(tmp_path):
    env = {**os.environ, "SERTOOLS_PRESET": "quick"}
    out = tmp_path / "res"
    p = subprocess.run([sys.executable, "-m", "sertools", "compare", "--methods", "supervised,fixmatch,svm",
                        "--seeds", "2", "--preset", "quick", "--out", str(out), "--quiet"],
                       capture_output=True, text=True, env=env, timeout=1200)
    assert p.returncode == 0, p.stderr[-2000:]
    df = pd.read_csv(out / "results.csv")
    assert list(df["method"]) == ["supervised", "fixmatch", "svm", "supervised (all labels)"]
    assert (df["seeds"] == 2).all()
    assert "| Supervised | supervised |" in (out / "results.md").read_text()
    assert (out / "embeddings.png").exists() and (out / "metrics.png").exists()


def test_cli_reports_bad_input_clearly(tmp_path):
    p = subprocess.run([sys.executable, "-m", "sertools", "train", "--method", "supervised", "--preset", "quick",
                        "--set", "tau=1.5", "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "tau=1.5 is out of range; allowed range is [0.0, 1.0]" in p.stderr
    p = subprocess.run([sys.executable, "-m", "sertools", "compare", "--methods", "nope", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "unknown method(s) ['nope']" in p.stderr


def test_compare_on_a_folder_corpus_end_to_end(tmp_path):
    """`sertools corpus` writes a folder; `compare --corpus folder:...` trains on it."""
    small = ["--set", "n_speakers_a=8", "--set", "n_speakers_b=6", "--set", "n_train=48", "--set", "n_unlabeled=32",
             "--set", "n_val=16", "--set", "n_test=16"]
    folder = tmp_path / "corpus"
    p = subprocess.run([sys.executable, "-m", "sertools", "corpus", "--preset", "quick", "--out", str(folder),
                        "--quiet", *small], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    out = tmp_path / "res"
    p = subprocess.run([sys.executable, "-m", "sertools", "compare", "--methods", "supervised,fixmatch",
                        "--seeds", "1", "--preset", "quick", "--corpus", f"folder:{folder}", "--out", str(out),
                        "--quiet", "--set", "n_labeled=5"], capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-2000:]
    df = pd.read_csv(out / "results.csv")
    assert list(df["method"]) == ["supervised", "fixmatch", "supervised (all labels)"] and df["ua"].between(0, 100).all()
