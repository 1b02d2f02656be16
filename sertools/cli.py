"""The ``sertools`` command (also ``python -m sertools``).

  sertools compare [--methods a,b] [--seeds N] [--jobs N] [--scheduler local|tcp://HOST:8786] [--preset P]
                   [--out DIR] [--corpus C] [--features F] [--set k=v ...]
  sertools sweep [--agreements 0.4,0.7,1.0] [--methods a,b] [--seeds N] [--jobs N] [--preset P] [--out DIR]
  sertools train --method NAME [--preset P] [--corpus C] [--set k=v ...] [--out DIR]
  sertools corpus --preset P --out DIR
  sertools teacher [--preset P]             (re)train the face teacher
  sertools face PATH [--set face_teacher=fer2013|trained]   (default: fer2013, real faces)
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .config import RANGES, ConfigError, get_config, parse_sets


def _common(p, corpus=True):
    p.add_argument("--preset", default=None, help="quick | default | full (default: $SERTOOLS_PRESET or default)")
    if corpus:
        p.add_argument("--corpus", default="builtin", help="builtin | folder:PATH | ravdess:PATH | cremad:PATH | iemocap:PATH | chsims:PATH")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override any config key (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    if corpus:
        p.add_argument("--features", default=None, choices=RANGES["classic_features"],
                       help="the classic methods' features (default prosody; egemaps needs openSMILE)")


def _grid_args(p):
    p.add_argument("--jobs", default="1", help="worker processes on this machine (auto: one per core); default 1")
    p.add_argument("--scheduler", default=None,
                   help="run the grid on a Dask cluster: 'local' (a LocalCluster of --jobs workers) or "
                        "tcp://HOST:8786; needs pip install 'sertools[cluster]' and a results folder all workers see")


def _sets(a) -> dict:
    """The --set overrides, with --features as the classic methods' feature set."""
    sets = parse_sets(a.set)
    if getattr(a, "features", None):
        sets["classic_features"] = a.features
    return sets


def _fmt(metrics: dict) -> str:
    return "  ".join(f"{k.upper()} {metrics[k]:.2f}" for k in ("f1", "wa", "ua", "macro_f1") if k in metrics)


def cmd_train(a) -> int:
    """``sertools train``: train one run afresh, store it, print its metrics."""
    from .store import RunStore
    sets = _sets(a)
    store = RunStore(a.out)
    seed = int(sets.pop("seed", 0))
    t0 = time.perf_counter()
    rec = store.run(a.method, seed=seed, preset=a.preset, corpus=a.corpus, rerun=True,
                    progress=not a.quiet, **sets)
    print(f"{a.method} (seed {seed}, {time.perf_counter() - t0:.1f} s): {_fmt(rec.metrics)}  (percent)")
    print(f"run stored in {store.path(store.key(a.method, a.corpus, a.preset, {**sets, 'seed': seed}))}")
    return 0


def _jobs(value: str) -> int:
    """--jobs N, or ``auto``: one worker per core."""
    if value == "auto":
        return max(1, os.cpu_count() or 1)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"--jobs {value!r}: expected a positive number of workers, or auto")
    return int(value)


def cmd_compare(a) -> int:
    """``sertools compare``: the comparison grid, its tables and its figures; 1 if a run failed."""
    from .results import run_comparison
    from .viz import save_comparison_plots
    methods = [m.strip() for m in a.methods.split(",")] if a.methods else None
    sets = _sets(a)
    t0 = time.perf_counter()
    budgets = [int(b) for b in a.budgets.split(",")] if a.budgets else None
    comparison = run_comparison(methods, seeds=a.seeds, preset=a.preset, corpus=a.corpus, out=a.out,
                                rerun=a.rerun, progress=not a.quiet, budgets=budgets, jobs=_jobs(a.jobs),
                                scheduler=a.scheduler, **sets)
    save_comparison_plots(comparison)
    df = comparison.table
    print((Path(a.out) / "results.md").read_text())
    failed = int(df["failed"].sum()) if "failed" in df else 0
    print(f"{len(df)} row(s), {a.seeds} seed(s) in {time.perf_counter() - t0:.0f} s"
          + (f"; {failed} run(s) failed (see {a.out}/failures.txt)" if failed else "")
          + f". Table: {a.out}/results.md and {a.out}/results.csv; plots: {a.out}/*.png")
    return 1 if failed else 0


def cmd_sweep(a) -> int:
    """``sertools sweep``: UA against the face-voice agreement rate, sweep.csv and sweep.png."""
    from .results import SWEEP_AGREEMENTS, SWEEP_METHODS, sweep
    from .viz import sweep_plot
    methods = [m.strip() for m in a.methods.split(",")] if a.methods else list(SWEEP_METHODS)
    rates = [float(r) for r in a.agreements.split(",")] if a.agreements else list(SWEEP_AGREEMENTS)
    df = sweep(rates, methods, seeds=a.seeds, preset=a.preset, out=a.out, jobs=_jobs(a.jobs),
               scheduler=a.scheduler, progress=not a.quiet, **_sets(a))
    sweep_plot(df).savefig(Path(a.out) / "sweep.png", dpi=120)
    print(df.pivot(index="agreement", columns="method", values="ua").round(1).to_string())
    failed = df.attrs.get("failed", 0)
    print(f"Table: {a.out}/sweep.csv; figure: {a.out}/sweep.png"
          + (f"; {failed} run(s) failed (see {a.out}/failures.txt)" if failed else ""))
    return 1 if failed else 0


def cmd_corpus(a) -> int:
    """``sertools corpus``: write the built-in corpus as a folder corpus (WAV, MP4, labels.csv)."""
    from .corpora.folder import write_folder
    from .synth.corpus import builtin_corpus
    ccfg, _ = get_config(a.preset, **parse_sets(a.set))
    clips = builtin_corpus(ccfg, progress=not a.quiet)
    path = write_folder(clips, a.out, progress=not a.quiet)
    print(f"wrote {len(clips)} clips to {path} (audio/*.wav, video/*.mp4, labels.csv)")
    return 0


def cmd_teacher(a) -> int:
    """``sertools teacher``: train the face teacher again and print its held-out accuracy."""
    from .teacher import train_teacher
    ccfg, tcfg = get_config(a.preset, **parse_sets(a.set))
    res = train_teacher(ccfg, tcfg, progress=not a.quiet, refresh=True)
    print(f"face teacher: frame accuracy on held-out identities {res['heldout_acc']:.1f} % "
          f"({res['seconds']:.0f} s); cached at {res['path']}")
    return 0


def cmd_face(a) -> int:
    """``sertools face PATH``: the face teacher's class distribution for an image or a video."""
    from .teacher import describe_file
    ccfg, tcfg = get_config(a.preset, **parse_sets(a.set))
    print(describe_file(a.path, ccfg, tcfg))
    return 0


def main(argv=None) -> int:
    """Parse the command line and run it; 0 on success, 1 on failed runs, 2 on bad input."""
    ap = argparse.ArgumentParser(prog="sertools", description="Speech emotion recognition with scarce labels: a teaching kit.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("compare", help="run methods over seeds, write results.csv, results.md and plots")
    p.add_argument("--methods", default=None, help="comma-separated method names (default: all)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--out", default="results")
    p.add_argument("--rerun", action="store_true", help="train again even when a stored run exists")
    p.add_argument("--budgets", default=None,
                   help="label budgets (clips per class) for the budget curve, e.g. 5,10,20,40: every budget with "
                        "every seed, for supervised, fixmatch, dcmkt_finetune and both fusions among --methods")
    _grid_args(p)
    _common(p)
    p.set_defaults(fn=cmd_compare)
    p = sub.add_parser("sweep", help="UA against the corpus's face-voice agreement rate (the fusion regime)")
    p.add_argument("--agreements", default=None, help="face_voice_agreement values (default 0.4,0.7,1.0)")
    p.add_argument("--methods", default=None, help="default: supervised,fixmatch,dcmkt_finetune,fusion_weighted,fusion_consistent")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--out", default="results/sweep")
    _grid_args(p)
    _common(p, corpus=False)
    p.set_defaults(fn=cmd_sweep)
    p = sub.add_parser("train", help="train one method, print its metrics, store its record")
    p.add_argument("--method", required=True)
    p.add_argument("--out", default="results")
    _common(p)
    p.set_defaults(fn=cmd_train)
    p = sub.add_parser("corpus", help="write the built-in corpus to disk (WAV, MP4, labels.csv)")
    p.add_argument("--out", required=True)
    _common(p, corpus=False)
    p.set_defaults(fn=cmd_corpus)
    p = sub.add_parser("teacher", help="(re)train the face-expression teacher")
    _common(p, corpus=False)
    p.set_defaults(fn=cmd_teacher)
    p = sub.add_parser("face", help="the face teacher's class distribution for an image or a video")
    p.add_argument("path")
    _common(p, corpus=False)
    p.set_defaults(fn=cmd_face)
    a = ap.parse_args(argv)
    from .core import TrainingError
    try:
        return a.fn(a)
    except (ConfigError, ValueError, OSError) as e:  # OSError: missing files, FER2013 weights
        print(f"sertools {a.cmd}: error: {e}", file=sys.stderr)
        return 2
    except TrainingError as e:
        print(f"sertools {a.cmd}: training stopped: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; finished runs are kept in the results folder", file=sys.stderr)
        return 130


if __name__ == "__main__":  # python -m sertools.cli, as python -m sertools
    sys.exit(main())
