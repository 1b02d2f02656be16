"""The results store and the comparison table in the paper's form.

Every run is stored as a folder ``runs/<method>-<hash>/`` holding its record
(configuration, seed, history, metrics, timings, kit version). The hash
covers everything that decides the result (corpus, both configs, the method
and its seed, the kit's version), so asking again for the same run returns
the stored one instead of training again. A run is written to a temporary
folder and renamed when complete: interrupting a comparison loses only the
run in progress, never a finished one.

``compare`` runs methods over seeds and writes ``results.csv`` (one row per
method: method, f1, f1_std, wa, wa_std, ua, ua_std, seconds; percent) and
``results.md``, laid out like the seed's Table 3 (KBS 2021): groups
Supervised, Semi-supervised, Direct cross-modal transfer, SSL and CMKT.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from . import __version__
from .config import config_hash, default_preset, get_config
from .train import RunRecord

CLASSIC_GROUP = "Classic (handcrafted features)"
FACE_KNOBS = {"face_teacher", "fer_map", "face_arch", "face_epochs", "aggregate"}
COLUMNS = ["method", "f1", "f1_std", "wa", "wa_std", "ua", "ua_std", "seconds"]


def _groups() -> dict:
    from .methods import GROUPS
    from .classic import CLASSIC_METHODS
    return {**GROUPS, CLASSIC_GROUP: list(CLASSIC_METHODS)}


def all_methods() -> list[str]:
    return [m for ms in _groups().values() for m in ms]


class RunStore:
    """A folder of finished runs, looked up by (method, corpus, configs, seed)."""

    def __init__(self, root=None):
        self.root = Path(root or os.environ.get("SERTOOLS_RESULTS", "results"))

    def key(self, method: str, corpus: str, preset: str | None, overrides: dict) -> str:
        """The run's id: everything that decides its result, and nothing else.

        A deep method's knobs enter through its effective parameters, so the
        supervised run does not change when ``tau`` does, and ``tau=None``
        (the method's default) is the same run as the default's value.
        """
        from dataclasses import asdict

        from .methods import METHODS, make_method
        ccfg, tcfg = get_config(preset, **overrides)
        train = asdict(tcfg)
        params = {}
        if method in METHODS:
            knobs = {k for m in METHODS.values() for k in m.defaults} | {"classic_features"}
            if not METHODS[method].needs_face:  # the face teacher's knobs matter only to the cross-modal methods
                knobs |= FACE_KNOBS
            train = {k: v for k, v in train.items() if k not in knobs}
            params = make_method(method, tcfg).params()
        return f"{method}-" + config_hash(ccfg, extra={"method": method, "corpus": corpus, "version": __version__,
                                                       "train": train, "params": params})

    def path(self, key: str) -> Path:
        return self.root / "runs" / key

    def get(self, key: str) -> RunRecord | None:
        p = self.path(key)
        return RunRecord.load(p) if (p / "record.json").exists() else None

    def put(self, key: str, record: RunRecord) -> Path:
        """Store atomically: write a temporary folder, then rename it into place."""
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-"))
        try:
            record.config["version"] = __version__
            record.state_dict = None  # the store keeps results; weights stay in memory
            record.save(tmp)
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
        return final

    def run(self, method: str, seed: int = 0, preset: str | None = None, corpus: str = "builtin",
            rerun: bool = False, progress: bool = True, **overrides) -> RunRecord:
        """The stored run if there is one (unless ``rerun``), else train, store and return it."""
        overrides = {**overrides, "seed": seed}
        key = self.key(method, corpus, preset, overrides)
        if not rerun and (rec := self.get(key)) is not None:
            return rec
        rec = run_any(method, preset=preset, corpus=corpus, progress=progress, **overrides)
        self.put(key, rec)
        return rec

    def records(self) -> list[RunRecord]:
        return [RunRecord.load(p) for p in sorted((self.root / "runs").glob("*")) if (p / "record.json").exists()]


def run_any(method: str, **kw) -> RunRecord:
    """A deep method through ``experiment.run``, a classic one through ``classic.run``."""
    from .classic import CLASSIC_METHODS
    if method in CLASSIC_METHODS:
        from .classic import run as classic_run
        return classic_run(method, **kw)
    from .experiment import run
    return run(method, **kw)


def summarize(records_by_method: dict[str, list[RunRecord]]) -> pd.DataFrame:
    """Mean and standard deviation over seeds, one row per method (percent)."""
    rows = []
    for m, recs in records_by_method.items():
        row = {"method": m}
        for k in ("f1", "wa", "ua", "macro_f1"):
            v = np.array([r.metrics[k] for r in recs], float)
            row[k], row[f"{k}_std"] = v.mean(), (v.std(ddof=1) if len(v) > 1 else 0.0)
        row["seconds"] = float(np.mean([r.seconds for r in recs]))
        row["seeds"] = len(recs)
        rows.append(row)
    return pd.DataFrame(rows)


def table_markdown(df: pd.DataFrame, title: str = "") -> str:
    """The comparison as the seed's Table 3: grouped rows, F1 / WA / UA as mean ± std."""
    lines = [f"**{title}**", ""] if title else []
    lines += ["| group | method | F1 (%) | WA (%) | UA (%) | s / run |", "|---|---|---|---|---|---|"]
    by = df.set_index("method")
    base = by.loc["supervised", "ua"] if "supervised" in by.index else None
    for group, methods in _groups().items():
        for m in methods:
            if m not in by.index:
                continue
            r = by.loc[m]
            cell = lambda k: f"{r[k]:.2f} ± {r[k + '_std']:.2f}"  # noqa: E731
            flag = "" if base is None or m == "supervised" else (" ▲" if r["ua"] > base else " ▼")
            lines.append(f"| {group} | {m} | {cell('f1')} | {cell('wa')} | {cell('ua')}{flag} | {r['seconds']:.1f} |")
    if base is not None:
        lines += ["", "▲ / ▼: mean UA above / below the supervised baseline on the same splits and seeds."]
    return "\n".join(lines)


CURVE_METHODS = ("supervised", "fixmatch", "fusion_consistent")


def budget_curve(store: "RunStore", budgets, methods=CURVE_METHODS, seeds: int = 1, progress: bool = True,
                 **kw) -> pd.DataFrame:
    """UA against the label budget (clips per class) for a few methods, over ``seeds`` seeds."""
    rows = []
    for m in methods:
        for b in budgets:
            ua = [store.run(m, seed=s, n_labeled=b, progress=progress, **kw).metrics["ua"] for s in range(seeds)]
            rows.append({"method": m, "n_labeled": b, "ua": float(np.mean(ua)),
                         "ua_std": float(np.std(ua, ddof=1)) if len(ua) > 1 else 0.0, "seeds": len(ua)})
    return pd.DataFrame(rows)


def compare(methods: list[str] | None = None, seeds: int = 3, preset: str | None = None,
            corpus: str = "builtin", out=None, rerun: bool = False, plots: bool = True,
            progress: bool = True, budgets: list[int] | None = None, **overrides) -> pd.DataFrame:
    """Run (or reuse) every method for ``seeds`` seeds; write the table and plots to ``out``.

    Returns the summary DataFrame (the content of results.csv). A failing
    run is reported and skipped; the runs finished before it stay stored.
    With ``budgets`` (labeled clips per class), also the label-budget curve
    of supervised, FixMatch and the consistent fusion (seed 0 only), as
    ``budget.csv`` and ``budget.png``.
    """
    methods = methods or all_methods()
    unknown = [m for m in methods if m not in all_methods()]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from {', '.join(all_methods())}")
    store = RunStore(out)
    out = store.root
    done: dict[str, list[RunRecord]] = {}
    failures = []
    t0 = time.perf_counter()
    jobs = [(m, s) for m in methods for s in range(seeds)]
    for m, s in tqdm(jobs, desc="compare", disable=not progress):
        try:
            done.setdefault(m, []).append(store.run(m, seed=s, preset=preset, corpus=corpus, rerun=rerun,
                                                    progress=progress, **overrides))
        except Exception as e:  # keep going: one broken method must not cost the others
            failures.append(f"{m} (seed {s}): {type(e).__name__}: {e}")
            print(f"! {failures[-1]}")
    done = {m: r for m, r in done.items() if r}
    df = summarize(done)
    out.mkdir(parents=True, exist_ok=True)
    df[COLUMNS + ["macro_f1", "macro_f1_std", "seeds"]].to_csv(out / "results.csv", index=False, float_format="%.2f")
    title = f"corpus {corpus}, preset {preset or default_preset()}, {seeds} seed(s), wall time {time.perf_counter() - t0:.0f} s"
    if any(m in _groups()[CLASSIC_GROUP] for m in done):
        title += f"; classic methods on {overrides.get('classic_features', 'prosody')} features"
    (out / "results.md").write_text(table_markdown(df, title) + "\n")
    if plots and len(df):
        from . import viz
        viz.save_comparison_plots(done, out)
    if budgets:
        from . import viz
        curve_methods = [m for m in CURVE_METHODS if m in methods]
        curve = budget_curve(store, budgets, curve_methods, seeds=1, preset=preset, corpus=corpus,
                             progress=progress, **{k: v for k, v in overrides.items() if k != "n_labeled"})
        curve.to_csv(out / "budget.csv", index=False, float_format="%.2f")
        fig = viz.budget_curve(curve)
        fig.savefig(out / "budget.png", dpi=120)
    if failures:
        (out / "failures.txt").write_text("\n".join(failures) + "\n")
    return df
