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
    md = (out / "results.md").read_text()
    assert "| Supervised | supervised |" in md
    assert (out / "embeddings.png").exists() and (out / "metrics.png").exists()
    # the protocol card opens the page and says what the ceiling took; the ceiling ran on its own budget
    steps = df.set_index("method")["steps_run"]
    assert md.startswith("**Protocol**") and f"it took {steps['supervised (all labels)']:.0f} steps" in md
    assert steps["supervised"] == steps["fixmatch"] == 60 < steps["supervised (all labels)"]
    assert {"p_value", "p_holm", "verdict", "gap_note", "ua_b", "ua_b_std"} <= set(df.columns)
    assert "Holm's correction over the table's 2 comparisons" in md            # fixmatch and svm
    runs = [p for p in (out / "runs").iterdir() if not p.name.startswith(".")]
    assert len(runs) == 8 and all((p / "predictions.csv").exists() for p in runs)


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


# ------------------------------------------------ the budget curve, the ceiling, the protocol card

def _rec(method, seed, ua, **config):
    from sertools.core import RunRecord
    return RunRecord(method, {"seed": seed, **config}, metrics={"ua": ua, "wa": ua, "f1": ua, "macro_f1": ua})


def _tiny_clips(speakers=(4, 3, 2, 2), per_class_train=(10, 12, 8, 10)):
    """A corpus table without audio: train pool with the given clips per class."""
    import numpy as np
    from sertools.clips import Clips
    rows = [("train", f"a{i % speakers[0]}", c) for c, n in enumerate(per_class_train) for i in range(n)]
    rows += [("unlabeled", f"b{i % speakers[1]}", -1) for i in range(30)]
    rows += [(s, f"{s}{i % k}", i % 4) for s, k in (("val", speakers[2]), ("test", speakers[3]))
             for i in range(12)]
    t = pd.DataFrame(rows, columns=["split", "speaker", "label"]).assign(clip_id=lambda d: [f"c{i}" for i in d.index])
    return Clips(waves=[np.zeros(10, np.float32)] * len(t), table=t, classes=("neutral", "happy", "sad", "angry"),
                 name="tiny")


def test_budget_csv_has_mean_sd_ci95_and_seeds_per_method_and_budget():
    import numpy as np
    from sertools.results import curve_table
    runs = {(m, b): [_rec(m, s, 50.0 + b + s + (m == "fixmatch")) for s in range(3)]
            for m in ("supervised", "fixmatch") for b in (5, 10)}
    runs["fixmatch", 20] = []                                              # every seed failed: no row
    df = curve_table(runs)
    assert list(df.columns) == ["method", "n_labeled", "ua", "ua_std", "ua_ci95", "seeds", "seed_list"]
    assert len(df) == 4 and (df["seeds"] == 3).all() and (df["seed_list"] == "0;1;2").all()
    r = df.set_index(["method", "n_labeled"]).loc[("fixmatch", 10)]
    assert r["ua"] == 62.0 and r["ua_std"] == 1.0
    assert r["ua_ci95"] == pytest.approx(4.303 / np.sqrt(3), rel=1e-3)      # t(0.975, 2) * sd / sqrt(n)


def test_the_budget_curve_runs_every_budget_with_every_seed():
    from sertools.results import CURVE_METHODS, _grid_cells
    assert set(CURVE_METHODS) == {"supervised", "fixmatch", "dcmkt_finetune", "fusion_consistent", "fusion_weighted"}
    methods = list(CURVE_METHODS) + ["pi_model", "svm"]
    cells = _grid_cells(methods, seeds=3, budgets=[5, 10, 20, 40], n_labeled=20)
    budget = lambda c: dict(c.knobs).get("n_labeled", 20)  # noqa: E731
    have = {(c.method, budget(c), c.seed) for c in cells}
    assert {(m, b, s) for m in CURVE_METHODS for b in (5, 10, 20, 40) for s in range(3)} <= have
    assert not [c for c in cells if c.method in ("pi_model", "svm") and c.knobs]     # not on the curve
    assert len(cells) == len(set(cells))


def test_the_ceiling_gets_its_own_converged_budget():
    from sertools.config import get_config
    from sertools.results import (ALL_LABELS, CEILING_PATIENCE, _grid_cells, ceiling_knobs, ceiling_patience,
                                  ceiling_steps)
    assert ceiling_steps(300, 32, 240, 1280, 5000) == 1600                  # 40 passes over 1,280 inputs
    assert ceiling_steps(300, 32, 240, 1280, 1000) == 1000                  # the cap
    assert [ceiling_patience(s, 50) for s in (100, 1000, 2000, 2044)] == [CEILING_PATIENCE, CEILING_PATIENCE, 10, 11]
    _, tcfg = get_config("quick", n_labeled=5, channel_copies=1)
    clips = _tiny_clips()
    knobs = ceiling_knobs(clips, tcfg)
    # few: 5 per class x 4 classes x 2 (copies) = 40 inputs, 60 steps of 16: 24 passes; all: 40 x 2 = 80 -> 120 steps
    assert knobs == {"n_labeled": ALL_LABELS, "steps": 120, "patience": CEILING_PATIENCE, "balance": True}
    cells = _grid_cells(["supervised", "fixmatch"], seeds=2, roof=knobs)
    roof = [c for c in cells if dict(c.knobs).get("n_labeled") == ALL_LABELS]
    assert len(roof) == 2 and all(dict(c.knobs)["steps"] > tcfg.steps for c in roof)
    assert all(not c.knobs for c in cells if c not in roof)                # the methods keep the common steps


def test_protocol_card_says_what_the_table_rests_on():
    from sertools.config import get_config
    from sertools.results import protocol_card
    ccfg, tcfg = get_config("quick", n_labeled=5, norm="utterance", track_norm="speaker", select="best")
    card = protocol_card(_tiny_clips(), ccfg, tcfg, "builtin", 3,
                         {"n_labeled": 10 ** 6, "steps": 120, "patience": 5}, [80, 100, 120])
    assert card.startswith("**Protocol**")
    assert "train 4 speakers, 40 clips; unlabeled 3 speakers, 30 clips; val 2 speakers, 12 clips; " \
           "test 2 speakers, 12 clips" in card
    assert "neutral, happy, sad, angry" in card and "5 clips per class" in card
    assert "60 per method" in card and "120 steps" in card and "it took 100 steps (mean over 3 seeds, 80-120; stopped early in 2)" in card
    assert "best validation UA" in card and "Seeds: 3" in card
    _, last = get_config("quick", select="last")
    assert "the last evaluation (`select=last`)" in protocol_card(_tiny_clips(), ccfg, last, "builtin", 3)
    assert "pitch tracks `speaker`" in card and card.count("**transductive**") == 1
    _, inductive = get_config("quick", norm="utterance", track_norm="utterance")
    assert "transductive" not in protocol_card(_tiny_clips(), ccfg, inductive, "builtin", 3)
    ccfg.style = "acted"                                                   # a corpus config with a style field
    assert "Corpus: `builtin` (tiny, style `acted`);" in protocol_card(_tiny_clips(), ccfg, tcfg, "builtin", 3)


def test_results_csv_takes_ua_b_where_the_runs_have_it():
    import numpy as np
    from sertools.results import summarize
    with_b = [_rec("supervised", s, 60.0 + s) for s in range(3)]
    for r, b in zip(with_b, (40.0, 42.0, 44.0)):
        r.metrics["ua_b"] = b
    df = summarize({"supervised": with_b, "fixmatch": [_rec("fixmatch", s, 61.0) for s in range(3)]}).set_index("method")
    assert df.loc["supervised", "ua_b"] == 42.0 and df.loc["supervised", "ua_b_std"] == 2.0
    assert np.isnan(df.loc["fixmatch", "ua_b"]) and np.isnan(df.loc["fixmatch", "ua_b_std"])


def test_each_stored_run_writes_its_predictions(tmp_path, quick_config):
    from sertools import experiment
    store = RunStore(tmp_path)
    rec = store.run("svm", seed=0, preset="quick", progress=False)
    key = store.key("svm", "builtin", "quick", {"seed": 0})
    p = pd.read_csv(store.path(key) / "predictions.csv", dtype={"clip_id": str})
    clips = experiment.get_clips("builtin", quick_config[0], progress=False)
    test = clips.table[clips.table.split == "test"]
    assert list(p.columns) == ["clip_id", "speaker", "split", "true", "pred"] + [f"p_{c}" for c in clips.classes]
    assert list(p["split"].unique()) == ["test", "test_b"]        # the target-domain split follows the test split
    b, p = p[p.split == "test_b"], p[p.split == "test"]
    assert list(b["clip_id"]) == list(clips.table.clip_id[clips.table.split == "test_b"])
    assert list(p["clip_id"]) == list(test["clip_id"]) and list(p["speaker"]) == list(test["speaker"])
    assert list(p["true"]) == [clips.classes[i] for i in test["label"]]
    assert list(p["pred"]) == [clips.classes[i] for i in rec.y_pred]
