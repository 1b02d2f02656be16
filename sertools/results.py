"""The comparison: run a grid of methods and seeds, and say which differences are real.

``compare`` runs every method for the same seeds (through ``sertools.grid``:
in this process, on N worker processes, or on a Dask cluster; finished runs
come back from the run store, ``sertools.store``) and writes

- ``results.csv``: one row per method. The paper's columns (method, f1,
  f1_std, wa, wa_std, ua, ua_std, seconds; percent) come first and keep their
  names; then macro_f1(_std), seeds, ua_ci95 (half-width of the 95 % t
  interval of the mean UA), ua_per_seed, ua_diff / ua_diff_ci95 / p_value
  (the paired difference to ``supervised`` over the same seeds and its paired
  t-test, ``sertools.stats``), p_holm and verdict (below), gap_closed and
  gap_note (below), ua_best and ua_last (UA of the best-on-validation and
  of the last checkpoint, whichever ``select`` tests), steps_run (optimiser steps the runs took, mean
  over seeds: the ceiling stops early), ua_b / ua_b_std (UA on a second
  held-out split ``test_b`` where the runs have one, else empty), mask_rate,
  pl_acc and val_acc (over the second half of training, or over the
  evaluations that logged them where that half did not; mean over seeds:
  the share of unlabeled clips in the loss, how often their targets were
  the clips' hidden label, and validation accuracy on domain A; empty for a
  method that logs none) and failed (seeds whose run failed, with the reason
  in ``failures.txt``).
- ``results.md``: a protocol card (``protocol_card``: corpus, splits, label
  budget, steps, seeds, checkpoint rule, normalisation), then the layout of
  the paper's Table 3 (KBS 2021): groups Supervised, Semi-supervised, Direct
  cross-modal transfer, SSL and CMKT (and the classic methods), F1 / WA / UA
  as mean ± sd, with the paired difference, its interval, p, p_holm and the
  verdict beside them, and a ceiling row ``supervised (all labels)``.

Verdicts. Each method of a table is tested against the baseline; with ten
methods, ten tests at p < 0.05 call about one null difference real by
chance. ``p_holm`` is Holm's correction (``stats.holm``) over the N methods
of the table that have a paired test against the baseline (neither the
baseline nor the ceiling row is one of them); ``verdict`` is ``better`` /
``worse`` where p_holm < 0.05, else ``within noise`` (``n/a`` with one seed).
``p_value`` stays the raw test. The ceiling row's verdict is its own test
against the baseline, which decides whether there is any headroom.

Gap closed. gap_closed = (method - baseline) / (ceiling - baseline), mean UA,
is a share of the headroom, so it is defined only where there is some, and
``gap_note`` says what the number is:

- "no headroom": the ceiling is not above the baseline by more than the
  half-width of the 95 % interval of their paired difference (or not at
  all); gap_closed is empty, since any share of a gap within noise is noise.
- "above ceiling (significant)": gap_closed > 100 % and the method beats the
  ceiling's seeds by a paired t-test (p < 0.05); the number stays.
- "at ceiling (within noise)": gap_closed would be > 100 % but the method is
  not significantly above the ceiling: reported as 100 %.
- "no ceiling" (the comparison ran without one), "" otherwise.

The ceiling. ``supervised (all labels)`` is the baseline with every label
of the training pool, trained to convergence on its own budget
(``ceiling_knobs``): as many passes over its clips as the few-label
baseline makes over its own, at most ``ceiling_max_steps`` steps, and early
stopping on validation UA (``ceiling_patience``: 5 evaluations, or a quarter
of its budget's if more); the same seeds, evaluation schedule and checkpoint
rule as every method.

``sweep`` does the same over the corpus's face-voice agreement rate, for the
fusion regime (``sweep.csv``).

The figures are not drawn here: ``sertools.viz`` draws them and the command
line saves them (``viz.save_comparison_plots``: metrics.png, embeddings.png,
budget.png; ``viz.sweep_plot``: sweep.png). ``run_comparison`` returns the
records the figures need beside the table; ``compare`` returns the table.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .audio import copies_for
from .config import default_preset, get_config
from .core import RunRecord
from .grid import Cell, prepare, run_cells
from .stats import gap_closed, holm, mean_ci, paired_test, verdict
from .store import CLASSIC_GROUP, RunStore, all_methods, method_groups

COLUMNS = ["method", "f1", "f1_std", "wa", "wa_std", "ua", "ua_std", "seconds"]
SIGNIFICANCE_COLUMNS = ["ua_ci95", "ua_per_seed", "ua_diff", "ua_diff_ci95", "p_value", "p_holm", "verdict",
                        "gap_closed", "gap_note", "ua_best", "ua_last", "steps_run", "ua_b", "ua_b_std", "mask_rate", "pl_acc",
                        "val_acc", "failed"]
ALL_LABELS = 1_000_000  # n_labeled that takes every clip of the training pool
CEILING = "supervised (all labels)"
MARK = {"better": " ▲", "worse": " ▼", "within noise": " ≈", "n/a": ""}


def _logged_mean(rec: RunRecord, key: str) -> float:
    """``rec.late_mean(key)``, or where the second half of training did not log
    it (DCMKT + fine-tuning logs its transfer phase only), the mean over the
    evaluations that did."""
    late = rec.late_mean(key)
    if np.isfinite(late):
        return late
    v = np.array([h[key] for h in rec.history if key in h], float)
    return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")


def _by_seed(recs: list[RunRecord]) -> dict[int, RunRecord]:
    return {int(r.config.get("seed", i)): r for i, r in enumerate(recs)}


def paired_with(recs: dict[int, RunRecord], base: dict[int, RunRecord]) -> dict:
    """Columns ua_diff, ua_diff_ci95, p_value, verdict: ``stats.paired_test`` of the
    UA of ``recs`` against ``base`` ({seed: record} each) over the seeds both
    have; NaN and no verdict when they share none."""
    paired = sorted(set(recs) & set(base))
    test = paired_test([recs[s].metrics["ua"] for s in paired], [base[s].metrics["ua"] for s in paired]) \
        if paired else {"diff": np.nan, "diff_ci": np.nan, "p": np.nan, "verdict": ""}
    return {"ua_diff": test["diff"], "ua_diff_ci95": test["diff_ci"], "p_value": test["p"], "verdict": test["verdict"]}


def summarize(records_by_method: dict[str, list[RunRecord]], baseline: str = "supervised",
              ceiling: list[RunRecord] | None = None, failed: dict[str, int] | None = None) -> pd.DataFrame:
    """One row per method (percent): mean and standard deviation over seeds, the
    95 % interval of the mean UA, and the paired comparison with ``baseline``
    over the seeds both have (``stats.paired_test``), its p-value corrected by
    Holm over the table's comparisons (``p_holm``, which the verdict reads).
    With ``ceiling`` (the baseline trained on every label, same seeds) a row
    ``supervised (all labels)`` and each method's ``gap_closed`` and ``gap_note``
    (``_gap``)."""
    base = _by_seed(records_by_method.get(baseline, []))
    roof = _by_seed(ceiling or [])
    rows = []
    groups = list(records_by_method.items()) + ([(CEILING, ceiling)] if ceiling else [])
    for m, recs in groups:
        by_seed = _by_seed(recs)
        seeds = sorted(by_seed)
        row = {"method": m}
        for k in ("f1", "wa", "ua", "macro_f1"):
            v = np.array([by_seed[s].metrics[k] for s in seeds], float)
            row[k], row[f"{k}_std"] = v.mean(), (v.std(ddof=1) if len(v) > 1 else 0.0)
        row["seconds"] = float(np.mean([r.seconds for r in recs]))
        row["seeds"] = len(recs)
        ua = [by_seed[s].metrics["ua"] for s in seeds]
        row["ua_ci95"] = mean_ci(ua)[1]
        row["ua_per_seed"] = ";".join(f"{s}:{by_seed[s].metrics['ua']:.2f}" for s in seeds)
        row.update(paired_with(by_seed, base if m != baseline else {}))
        for rule in ("best", "last"):
            row[f"ua_{rule}"] = float(np.mean([by_seed[s].metrics.get(f"ua_{rule}", np.nan) for s in seeds]))
        steps = [r.config["steps_run"] for r in recs if "steps_run" in r.config]
        row["steps_run"] = float(np.mean(steps)) if steps else np.nan
        ua_b = np.array([by_seed[s].metrics.get("ua_b", np.nan) for s in seeds], float)
        row["ua_b"] = float(ua_b.mean()) if np.isfinite(ua_b).all() else np.nan
        row["ua_b_std"] = float(ua_b.std(ddof=1)) if len(ua_b) > 1 and np.isfinite(row["ua_b"]) else np.nan
        for k, log, to_pct in (("mask_rate", "mask_rate", 100), ("pl_acc", "pl_acc", 100), ("val_acc", "val_wa", 1)):
            v = np.array([_logged_mean(r, log) for r in recs], float)
            row[k] = to_pct * float(np.nanmean(v)) if np.isfinite(v).any() else np.nan
        row["failed"] = (failed or {}).get(m, 0)
        rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    family = ~df["method"].isin([baseline, CEILING]) & np.isfinite(df["p_value"].astype(float))
    df["p_holm"] = np.nan
    df.loc[family, "p_holm"] = holm(df.loc[family, "p_value"].astype(float))
    df.loc[family, "verdict"] = [verdict(d, p) for d, p in zip(df.loc[family, "ua_diff"], df.loc[family, "p_holm"])]
    gaps = [_gap(m, _by_seed(recs), base, roof) if m not in (baseline, CEILING) else (np.nan, "")
            for m, recs in groups]
    df["gap_closed"], df["gap_note"] = [g for g, _ in gaps], [n for _, n in gaps]
    return df


def headroom(base: dict[int, RunRecord], roof: dict[int, RunRecord]) -> bool:
    """Whether the ceiling is above the baseline by more than its noise: the
    paired difference (ceiling - baseline, same seeds) is positive and larger
    than the half-width of its 95 % interval (with one seed: positive)."""
    t = paired_with(roof, base)
    diff, half = t["ua_diff"], t["ua_diff_ci95"]
    return bool(np.isfinite(diff) and diff > 0 and not (np.isfinite(half) and diff <= half))


def _gap(method: str, recs: dict[int, RunRecord], base: dict[int, RunRecord],
         roof: dict[int, RunRecord]) -> tuple[float, str]:
    """(gap_closed, gap_note) of one method; see the module's docstring, "Gap closed"."""
    if not roof or not base or not recs:
        return np.nan, "no ceiling" if not roof else "no baseline" if not base else ""
    if not headroom(base, roof):
        return np.nan, "no headroom"
    mean = lambda rs: float(np.mean([r.metrics["ua"] for r in rs.values()]))  # noqa: E731
    g = gap_closed(mean(recs), mean(base), mean(roof))
    if g <= 1:
        return g, ""
    if paired_with(recs, roof)["verdict"] == "better":
        return g, "above ceiling (significant)"
    return 1.0, "at ceiling (within noise)"


def gap_text(r) -> str:
    """The gap-closed cell of a row: the percentage, with its note where there is one."""
    g, note = r.get("gap_closed", np.nan), r.get("gap_note", "")
    note = note if isinstance(note, str) else ""
    pct = f"{100 * g:.0f} %" if np.isfinite(g) else ""
    return f"{pct} ({note})" if pct and note else pct or note


def table_markdown(df: pd.DataFrame, title: str = "") -> str:
    """The comparison as the paper's Table 3: grouped rows, F1 / WA / UA as mean ±
    std over seeds, and beside them the paired UA difference to the supervised
    baseline with its 95 % interval, the paired t-test's raw p, its Holm-corrected
    p (which the verdict reads) and the verdict, and the gap closed."""
    lines = [f"**{title}**", ""] if title else []
    lines += ["| group | method | F1 (%) | WA (%) | UA (%) | ΔUA vs supervised [95 % CI] | p | p (Holm) | verdict "
              "| gap closed | s / run |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    by = df.set_index("method")
    groups = dict(method_groups())
    groups["Supervised"] = groups["Supervised"] + [CEILING]
    fmt_p = lambda r, k: f"{r[k]:.3f}" if np.isfinite(r.get(k, np.nan)) else ""  # noqa: E731
    for group, methods in groups.items():
        for m in methods:
            if m not in by.index:
                continue
            r = by.loc[m]
            cell = lambda k: f"{r[k]:.2f} ± {r[k + '_std']:.2f}"  # noqa: E731
            verdict = r.get("verdict") or ""
            diff = "" if not np.isfinite(r.get("ua_diff", np.nan)) else \
                f"{r['ua_diff']:+.2f} [{r['ua_diff'] - r['ua_diff_ci95']:+.2f}, {r['ua_diff'] + r['ua_diff_ci95']:+.2f}]" \
                if np.isfinite(r["ua_diff_ci95"]) else f"{r['ua_diff']:+.2f}"
            failed = f" ({int(r['failed'])} failed)" if r.get("failed", 0) else ""
            lines.append(f"| {group} | {m}{failed} | {cell('f1')} | {cell('wa')} | {cell('ua')}{MARK.get(verdict, '')} "
                         f"| {diff} | {fmt_p(r, 'p_value')} | {fmt_p(r, 'p_holm')} | {verdict} | {gap_text(r)} "
                         f"| {r['seconds']:.1f} |")
    if "supervised" in by.index:
        n = int(np.isfinite(by["p_holm"].astype(float)).sum()) if "p_holm" in by else 0
        lines += ["", f"Verdicts use Holm's correction over the table's {n} comparisons with the supervised "
                  "baseline (p (Holm) < 0.05; p is the raw paired t-test; the ceiling row's verdict is its own "
                  "test, not one of them).",
                  "", "▲ / ▼ / ≈: better than / worse than / within noise of the supervised baseline by a paired "
                  "t-test over the same seeds; a seed fixes the labeled clips, the labeled batches and "
                  "the initial weights for every method. Gap closed: (method - supervised) / (ceiling - supervised) "
                  "in mean UA, the ceiling being supervised with every training label; \"no headroom\" where the "
                  "ceiling is not above the baseline by more than its 95 % interval, capped at 100 % \"at ceiling "
                  "(within noise)\" unless the method is above the ceiling by a paired test."]
    return "\n".join(lines)


def selection_note(records: list[RunRecord]) -> str:
    """Markdown: the test UA of the best-on-validation checkpoint against the
    last one, paired over every deep run of a comparison (``fit`` scores both)."""
    pairs = [(r.metrics["ua_best"], r.metrics["ua_last"]) for r in records if "ua_last" in r.metrics]
    if len(pairs) < 2:
        return ""
    best, last = np.array(pairs).T
    t = paired_test(best, last)
    return (f"Checkpoint selection, over {len(pairs)} deep runs: best on validation {best.mean():.2f} % UA, "
            f"last checkpoint {last.mean():.2f} %; best - last {t['diff']:+.2f} "
            f"[{t['diff'] - t['diff_ci']:+.2f}, {t['diff'] + t['diff_ci']:+.2f}] points, p = {t['p']:.3f} "
            f"({t['verdict']}).")


CURVE_METHODS = ("supervised", "fixmatch", "dcmkt_finetune", "fusion_consistent", "fusion_weighted")
LESSON_CURVE_METHODS = ("supervised", "fixmatch", "fusion_consistent")  # budget_curve's default: lesson 10's short curve


def curve_table(runs: dict) -> pd.DataFrame:
    """budget.csv from ``{(method, n_labeled): [RunRecord, one per seed]}``: per
    method and budget the mean test UA over seeds (``ua``), its standard
    deviation (``ua_std``), the half-width of its 95 % t interval (``ua_ci95``,
    ``stats.mean_ci``; empty with one seed), the number of seeds (``seeds``) and
    which ones (``seed_list``). A (method, budget) without a finished run has no row."""
    rows = []
    for (m, b), recs in runs.items():
        by_seed = _by_seed(recs)
        if not by_seed:
            continue
        ua = [by_seed[s].metrics["ua"] for s in sorted(by_seed)]
        mean, half = mean_ci(ua)
        rows.append({"method": m, "n_labeled": b, "ua": mean, "ua_std": float(np.std(ua, ddof=1)) if len(ua) > 1 else 0.0,
                     "ua_ci95": half, "seeds": len(ua), "seed_list": ";".join(str(s) for s in sorted(by_seed))})
    return pd.DataFrame(rows, columns=["method", "n_labeled", "ua", "ua_std", "ua_ci95", "seeds", "seed_list"])


def budget_curve(store: "RunStore", budgets, methods=LESSON_CURVE_METHODS, seeds: int = 1, progress: bool = True,
                 **kw) -> pd.DataFrame:
    """UA against the label budget (clips per class) for a few methods, over
    ``seeds`` seeds (``curve_table``), each run from the store or trained now.
    ``sertools compare --budgets`` runs ``CURVE_METHODS`` through the grid instead."""
    runs = {}
    for m in methods:
        for b in budgets:
            runs[m, b] = []
            for s in range(seeds):
                try:
                    runs[m, b].append(store.run(m, seed=s, n_labeled=b, progress=progress, **kw))
                except Exception as e:  # a failed cell leaves a gap in the curve, not a crash
                    print(f"! budget curve: {m} (seed {s}, n_labeled={b}): {type(e).__name__}: {e}")
    return curve_table(runs)


CEILING_PATIENCE = 5  # evaluations without a better validation UA before the all-label ceiling stops, at least;
CEILING_PATIENCE_SHARE = 0.25  # and at least this share of its budget's evaluations (a long budget's validation UA
                               # can stall for 5 evaluations while it still climbs: docs/methods.md, "A converged ceiling")


def ceiling_steps(steps: int, batch_size: int, n_few: int, n_all: int, max_steps: int) -> int:
    """The all-label ceiling's step budget: as many passes over its ``n_all``
    labeled inputs as ``steps`` batches of ``batch_size`` make over the few-label
    baseline's ``n_few`` (passes = steps * batch / n_few), never fewer steps
    than the methods', at most ``max_steps``. With 300 steps of 32, 240 labeled
    inputs (40 passes) against 1,280: 1,600 steps."""
    passes = steps * min(batch_size, n_few) / n_few
    return int(min(max_steps, max(steps, math.ceil(passes * n_all / min(batch_size, n_all)))))


def labeled_counts(clips, tcfg) -> tuple[int, int]:
    """(few, all): labeled training inputs of a run with ``tcfg.n_labeled`` clips
    per class and of one with every label of the training pool, re-recorded
    copies included (``views.make_views`` takes the same clips)."""
    labels = clips.table["label"].to_numpy()[clips.indices("train")]
    counts = np.unique(labels[labels >= 0], return_counts=True)[1]
    per_clip = 1 + copies_for(tcfg, clips.name)
    return int(np.minimum(counts, tcfg.n_labeled).sum()) * per_clip, int(counts.sum()) * per_clip


def ceiling_patience(steps: int, eval_every: int) -> int:
    """Evaluations without a better validation UA before a ceiling of ``steps``
    steps stops: ``CEILING_PATIENCE``, or a ``CEILING_PATIENCE_SHARE`` of its
    evaluations if that is more (2,000 steps evaluated every 50: 10)."""
    return max(CEILING_PATIENCE, math.ceil(CEILING_PATIENCE_SHARE * steps / eval_every))


def ceiling_knobs(clips, tcfg) -> dict:
    """The ceiling cell's knobs: every label (``ALL_LABELS``), the matched-passes
    budget of ``ceiling_steps`` (capped by ``tcfg.ceiling_max_steps``) and early
    stopping (``ceiling_patience``, or the run's own ``patience`` if larger), and class-balanced labeled
    batches (``balance``): every label keeps the pool's prior, and UA weighs every class alike."""
    few, every = labeled_counts(clips, tcfg)
    steps = ceiling_steps(tcfg.steps, tcfg.batch_size, few, every, tcfg.ceiling_max_steps)
    return {"n_labeled": ALL_LABELS, "steps": steps,
            "patience": max(tcfg.patience, ceiling_patience(steps, tcfg.eval_every)), "balance": True}


def _grid_cells(methods, seeds: int, budgets=None, ceiling: bool = True, n_labeled=None,
                roof: dict | None = None) -> list[Cell]:
    """The comparison's cells, the long ones first (the deep methods, the budget
    curve's, the ceiling's; the classic methods' seconds last), so that no
    worker is left with a long run while the others have finished. The budget
    curve runs every ``CURVE_METHODS`` method in ``methods`` at every budget with
    every seed (the budget ``n_labeled`` is the table's own cell); the ceiling
    cells take the knobs ``roof`` (``ceiling_knobs``; every label if None)."""
    classic = set(method_groups()[CLASSIC_GROUP])
    cells = [Cell.of(m, s) for m in methods if m not in classic for s in range(seeds)]
    for m in [m for m in CURVE_METHODS if m in methods] if budgets else []:
        cells += [Cell.of(m, s, n_labeled=b) for b in budgets if b != n_labeled for s in range(seeds)]
    if ceiling and "supervised" in methods:
        cells += [Cell.of("supervised", s, **(roof or {"n_labeled": ALL_LABELS})) for s in range(seeds)]
    return cells + [Cell.of(m, s) for m in methods if m in classic for s in range(seeds)]


def protocol_card(clips, ccfg, tcfg, corpus: str, seeds: int, ceiling: dict | None = None,
                  ceiling_steps_run: list | None = None) -> str:
    """Markdown: what a reader needs to judge a table before reading it.

    The corpus (and its ``style``, where its config has one), the classes,
    each split's speakers and clips, the label budget, the steps of the methods
    and of the ceiling (its budget and the steps it took, mean over seeds), the
    seeds, the checkpoint rule and the normalisation, saying which parts are
    transductive: per-speaker statistics ("speaker") are taken over all of a
    speaker's clips, the test speakers' own test clips included, so a test clip's
    input depends on the other test clips; per-clip ("utterance") and the training
    pool's z-score are inductive. ``ceiling``: the ceiling cell's knobs
    (``ceiling_knobs``); ``ceiling_steps_run``: ``steps_run`` of its runs.
    """
    t = clips.table
    style = getattr(ccfg, "style", None)
    lines = ["**Protocol**", "",
             f"- Corpus: `{corpus}`" + (f" ({about})" if (about := ", ".join(
                 x for x in (clips.name if clips.name != corpus else "", f"style `{style}`" if style else "") if x))
                 else "") + "; "
             f"{len(clips.classes)} classes: {', '.join(clips.classes)}.",
             "- Splits (val and test speakers appear in no other split): "
             + "; ".join(f"{sp} {t.speaker[t.split == sp].nunique()} speakers, {int((t.split == sp).sum())} clips"
                         for sp in ("train", "unlabeled", "val", "test", "test_b") if (t.split == sp).any()) + "."]
    few, every = labeled_counts(clips, tcfg)
    k = copies_for(tcfg, clips.name)
    copies = f", each also re-recorded {k}x (multi-condition)" if k else ""
    lines.append(f"- Label budget: {tcfg.n_labeled} clips per class from the train pool "
                 f"({few // (1 + k)} clips{copies}: {few} labeled inputs); the ceiling: "
                 f"every train label ({every} inputs).")
    lines.append(f"- Steps: {tcfg.steps} per method (batch {tcfg.batch_size}, "
                 f"{tcfg.steps * min(tcfg.batch_size, few) / few:.1f} passes over the labeled inputs), the same for all.")
    if ceiling:
        early = sum(s < ceiling["steps"] for s in ceiling_steps_run or [])
        took = (f"; it took {np.mean(ceiling_steps_run):.0f} steps (mean over {len(ceiling_steps_run)} seeds, "
                f"{min(ceiling_steps_run)}-{max(ceiling_steps_run)}; stopped early in {early})"
                if ceiling_steps_run else "")
        lines.append(f"- Ceiling (`{CEILING}`): its own budget of {ceiling['steps']} steps (the same passes over "
                     f"its inputs, at most ceiling_max_steps = {tcfg.ceiling_max_steps}), early stopping after "
                     f"{ceiling['patience']} evaluations without a better validation UA{took}.")
    lines.append(f"- Seeds: {seeds} (0-{seeds - 1}); a seed fixes the labeled clips, the labeled batches and "
                 "the initial weights, the same for every method.")
    rule = "the best validation UA" if tcfg.select == "best" else "the last evaluation"
    lines.append(f"- Checkpoint: validation UA every {tcfg.eval_every} steps and at the end; the test score is "
                 f"that of the checkpoint with {rule} (`select={tcfg.select}`).")
    lines.append("- Normalisation: " + normalisation_text(tcfg) + ".")
    return "\n".join(lines)


_NORM = {"pool": ("nothing beyond the z-score", False), "utterance_mean": ("per-clip mean", False),
         "utterance": ("per-clip mean and variance", False),
         "speaker": ("per-speaker mean and variance over all of the speaker's clips", True)}


def normalisation_text(tcfg) -> str:
    """One sentence: the spectrum's and the pitch tracks' normalisation, which
    of them is transductive (per speaker, test clips included), and the z-score."""
    parts = [("spectrum", tcfg.norm)]
    if tcfg.pitch_tracks:
        parts.append(("pitch tracks", tcfg.norm if tcfg.track_norm in (None, "same") else tcfg.track_norm))
    said = [f"{what} `{how}` ({_NORM[how][0]}; " + ("**transductive**: a test clip's input depends on its "
                                                     "speaker's other test clips" if _NORM[how][1] else "inductive")
            + ")" for what, how in parts]
    return ", ".join(said) + "; then the z-score with the training pool's statistics (inductive)"


@dataclass
class Comparison:
    """What ``run_comparison`` leaves: the table and the records behind it.

    table : the summary DataFrame (the content of results.csv)
    records : {method: [RunRecord, one per seed that finished]}
    curve : the label-budget curve (``curve_table``'s DataFrame, budget.csv) or None
    failures : "cell: reason" for every run that failed
    out : the folder the tables were written to
    """
    table: pd.DataFrame
    records: dict
    out: Path
    curve: pd.DataFrame | None = None
    failures: list = field(default_factory=list)


def run_comparison(methods: list[str] | None = None, seeds: int = 3, preset: str | None = None,
                   corpus: str = "builtin", out=None, rerun: bool = False, progress: bool = True,
                   budgets: list[int] | None = None, jobs: int = 1, scheduler: str | None = None,
                   ceiling: bool = True, **overrides) -> Comparison:
    """Run (or reuse) every method for ``seeds`` seeds and write the tables
    (results.csv, results.md, failures.txt, budget.csv) to ``out``.

    The corpus is loaded and checked once first (a wrong folder raises
    before any run); a failing run is reported and counted, and the others
    go on. ``jobs`` worker processes, or a Dask ``scheduler`` ("local" or
    "tcp://HOST:PORT"), run the grid in parallel with the same results as in
    sequence. With ``ceiling``, supervised is also trained on every label
    (the same seeds, on its own converged budget: ``ceiling_knobs``). With
    ``budgets`` (labeled clips per class), also the label-budget curve of the
    ``CURVE_METHODS`` among ``methods``, every budget with every seed
    (``curve_table``). Figures are not drawn here: ``viz.save_comparison_plots``
    draws them from the returned ``Comparison`` (the ``sertools compare``
    command does).
    """
    from .experiment import get_clips
    methods = methods or all_methods()
    unknown = [m for m in methods if m not in all_methods()]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from {', '.join(all_methods())}")
    store = RunStore(out)
    out = store.root
    t0 = time.perf_counter()
    prepare(methods, preset, corpus, progress=progress, **overrides)
    ccfg, tcfg = get_config(preset, **overrides)
    clips = get_clips(corpus, ccfg, progress=progress)
    n_labeled = tcfg.n_labeled
    roof_knobs = ceiling_knobs(clips, tcfg)
    cells = _grid_cells(methods, seeds, budgets, ceiling, n_labeled, roof_knobs)
    outcomes = run_cells(store, cells, preset, corpus, overrides, jobs=jobs, scheduler=scheduler,
                         rerun=rerun, progress=progress)
    failures = [f"{o.cell}: {o.message}" for o in outcomes if not o.ok]
    done: dict[str, list[RunRecord]] = {}
    failed: dict[str, int] = {}
    for o in outcomes:
        if o.cell.knobs:
            continue
        if o.ok:
            done.setdefault(o.cell.method, []).append(store.get(o.key))
        else:
            failed[o.cell.method] = failed.get(o.cell.method, 0) + 1
    is_roof = lambda o: o.cell.overrides.get("n_labeled") == ALL_LABELS  # noqa: E731
    if failed_roof := sum(1 for o in outcomes if not o.ok and is_roof(o)):
        failed[CEILING] = failed_roof
    roof = [store.get(o.key) for o in outcomes if o.ok and is_roof(o) and o.cell.method == "supervised"]
    df = summarize(done, ceiling=roof or None, failed=failed)
    for m in failed:  # a method whose every seed failed still gets its row
        if m not in done and not (m == CEILING and roof):
            df = pd.concat([df, pd.DataFrame([{"method": m, "failed": failed[m], "seeds": 0}])], ignore_index=True)
    out.mkdir(parents=True, exist_ok=True)
    df[[c for c in COLUMNS + ["macro_f1", "macro_f1_std", "seeds"] + SIGNIFICANCE_COLUMNS if c in df]].to_csv(
        out / "results.csv", index=False, float_format="%.4g")
    title = (f"corpus {corpus}, preset {preset or default_preset()}, {seeds} seed(s), "
             f"wall time {time.perf_counter() - t0:.0f} s")
    if any(m in method_groups()[CLASSIC_GROUP] for m in done):
        title += f"; classic methods on {overrides.get('classic_features', 'prosody')} features"
    deep = [r for m, rs in done.items() if m not in method_groups()[CLASSIC_GROUP] for r in rs]
    card = protocol_card(clips, ccfg, tcfg, corpus, seeds, roof_knobs if ceiling and "supervised" in methods else None,
                         [int(r.config["steps_run"]) for r in roof if "steps_run" in r.config])
    text = card + "\n\n" + table_markdown(df[df["seeds"] > 0], title)
    note = selection_note(deep)
    if failures:
        text += "\n\nFailed runs (the other cells went on):\n" + "\n".join(f"- {f}" for f in failures)
    (out / "results.md").write_text(text + (f"\n\n{note}" if note else "") + "\n")
    curve = None
    if budgets:
        def at(m, b):
            want = () if b == n_labeled else (("n_labeled", b),)
            return [store.get(o.key) for o in outcomes if o.ok and o.cell.method == m and o.cell.knobs == want]
        curve = curve_table({(m, b): at(m, b) for m in CURVE_METHODS if m in methods for b in budgets})
        curve.to_csv(out / "budget.csv", index=False, float_format="%.4g")
    write_failures(out, failures)
    return Comparison(df, done, out, curve, failures)


def compare(methods: list[str] | None = None, seeds: int = 3, preset: str | None = None, **kw) -> pd.DataFrame:
    """``run_comparison``'s table (the content of results.csv): what lessons
    and scripts that only need the numbers call. Takes the same arguments."""
    return run_comparison(methods, seeds, preset, **kw).table


def read_table(path) -> pd.DataFrame:
    """A results.csv, budget.csv or sweep.csv as written: an empty cell is missing
    (NaN), and every word stays a word (pandas' own reader would turn the
    verdict ``n/a``, no paired test, into a missing value)."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def write_failures(out: Path, failures: list[str]) -> None:
    """failures.txt lists the failed cells and why; no failure, no file."""
    if failures:
        (out / "failures.txt").write_text("\n".join(failures) + "\n")
    else:
        (out / "failures.txt").unlink(missing_ok=True)


SWEEP_METHODS = ("supervised", "fixmatch", "dcmkt_finetune", "fusion_weighted", "fusion_consistent")
SWEEP_AGREEMENTS = (0.4, 0.7, 1.0)


def face_blind(method: str) -> bool:
    """A deep method that never reads the face teacher's labels: on the built-in
    corpus its run is the same at every face-voice agreement rate, since the rate
    changes only which faces agree (the waves, labels and splits stay the same;
    tests/test_grid.py checks it)."""
    from .methods import METHODS
    return method in METHODS and not METHODS[method].needs_face


def holm_per_table(df: pd.DataFrame, by: str, baseline: str = "supervised") -> pd.DataFrame:
    """``p_holm`` and the verdict from it within each value of column ``by``
    (one table per agreement rate in the sweep): Holm over the methods with a
    p-value against ``baseline`` there, the baseline itself left out."""
    df = df.copy()
    df.insert(df.columns.get_loc("verdict"), "p_holm", np.nan)
    for _, t in df.groupby(by, sort=False):
        fam = t.index[(t["method"] != baseline) & np.isfinite(t["p_value"].astype(float))]
        df.loc[fam, "p_holm"] = holm(df.loc[fam, "p_value"].astype(float))
        df.loc[fam, "verdict"] = [verdict(d, p) for d, p in zip(df.loc[fam, "ua_diff"], df.loc[fam, "p_holm"])]
    return df


def sweep(agreements=SWEEP_AGREEMENTS, methods=SWEEP_METHODS, seeds: int = 3, preset: str | None = None,
          out=None, jobs: int = 1, scheduler: str | None = None, progress: bool = True,
          **overrides) -> pd.DataFrame:
    """The fusion regime: UA of ``methods`` against the corpus's face-voice
    agreement rate, ``seeds`` seeds per point, through the same run store and
    grid. Writes ``sweep.csv`` (agreement, method, ua, ua_ci95, seeds; ua_diff,
    ua_diff_ci95, p_value, p_holm, verdict: the paired comparison with supervised over
    the same seeds, as in ``summarize``, Holm-corrected over the methods of each
    agreement rate, ``holm_per_table``; face_label_acc: how often the teacher's clip label matched the voice on
    the unlabeled clips; computed_at: the rate whose runs the row reports;
    ``viz.sweep_plot`` draws it). Each rate is its own simulated corpus with
    the same voices; only which faces agree changes. So a ``face_blind``
    method (supervised, fixmatch, ...) is trained at the first rate only and
    its row repeats at the others: training it again would give the same
    numbers at every rate."""
    store = RunStore(out)
    for a in agreements:
        prepare([m for m in methods if a == agreements[0] or not face_blind(m)], preset, "builtin",
                progress=progress, face_voice_agreement=a, **overrides)
    at = {(m, a): agreements[0] if face_blind(m) else a for m in methods for a in agreements}
    cells = list(dict.fromkeys(Cell.of(m, s, face_voice_agreement=at[m, a])
                               for a in agreements for m in methods for s in range(seeds)))
    outcomes = run_cells(store, cells, preset, "builtin", overrides, jobs=jobs, scheduler=scheduler,
                         progress=progress)
    def records(m, a) -> dict[int, RunRecord]:
        return _by_seed([store.get(o.key) for o in outcomes if o.ok and o.cell.method == m
                         and o.cell.overrides["face_voice_agreement"] == at[m, a]])

    rows = []
    for a in agreements:
        base = records("supervised", a) if "supervised" in methods else {}
        for m in methods:
            recs = records(m, a)
            ua = [r.metrics["ua"] for r in recs.values()]
            face = [r.late_mean("pl_acc_face") for r in recs.values() if any("pl_acc_face" in h for h in r.history)]
            mean, half = mean_ci(ua)
            rows.append({"agreement": a, "method": m, "ua": mean, "ua_ci95": half, "seeds": len(ua),
                         **paired_with(recs, base if m != "supervised" else {}),
                         "face_label_acc": 100 * float(np.mean(face)) if face else np.nan,
                         "computed_at": at[m, a]})
    df = holm_per_table(pd.DataFrame(rows), "agreement")
    store.root.mkdir(parents=True, exist_ok=True)
    df.to_csv(store.root / "sweep.csv", index=False, float_format="%.4g")
    failures = [f"{o.cell}: {o.message}" for o in outcomes if not o.ok]
    write_failures(store.root, failures)
    df.attrs["failed"] = len(failures)
    return df


LESSON_SEEDS = 3  # every lesson's comparison table: enough seeds for a paired test, few enough for a class


def lesson_store_root() -> Path:
    """The one run store every lesson's comparison shares (``lessons`` in the
    default run store's folder), so a method has the same number on every page."""
    return RunStore().root / "lessons"


def lesson_table(methods, preset: str | None = None, seeds: int = LESSON_SEEDS, progress: bool = False,
                 **kw) -> pd.DataFrame:
    """The comparison a lesson shows: ``compare`` of ``supervised`` and
    ``methods`` with the all-label ceiling, over ``LESSON_SEEDS`` seeds, in the
    shared lesson store (``lesson_store_root``). Runs another lesson already
    made come back from the store, so lessons 04-10 agree on every number;
    ``reports.outcome`` turns a row into sentences."""
    methods = ["supervised"] + [m for m in methods if m != "supervised"]
    return compare(methods, seeds=seeds, preset=preset, out=lesson_store_root(), progress=progress, **kw)
