"""The ``sertools`` command (also ``python -m sertools``).

  sertools compare [--methods a,b] [--seeds N] [--preset P] [--out DIR] [--corpus C] [--features F] [--set k=v ...]
  sertools train --method NAME [--preset P] [--corpus C] [--set k=v ...] [--out DIR]
  sertools corpus --preset P --out DIR
  sertools teacher [--preset P]             (re)train the face teacher
  sertools face PATH [--set face_teacher=fer2013|trained]   (default: fer2013, real faces)
"""
from __future__ import annotations

import argparse
import sys
import time

from .config import RANGES, ConfigError, default_preset, get_config, parse_sets


def _common(p, corpus=True):
    p.add_argument("--preset", default=None, help="quick | default | full (default: $SERTOOLS_PRESET or default)")
    if corpus:
        p.add_argument("--corpus", default="builtin", help="builtin | folder:PATH | ravdess:PATH | cremad:PATH | iemocap:PATH | chsims:PATH")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override any config key (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    if corpus:
        p.add_argument("--features", default=None, choices=RANGES["classic_features"],
                       help="the classic methods' features (default prosody; egemaps needs openSMILE)")


def _sets(a) -> dict:
    """The --set overrides, with --features as the classic methods' feature set."""
    sets = parse_sets(a.set)
    if getattr(a, "features", None):
        sets["classic_features"] = a.features
    return sets


def _fmt(metrics: dict) -> str:
    return "  ".join(f"{k.upper()} {metrics[k]:.2f}" for k in ("f1", "wa", "ua", "macro_f1") if k in metrics)


def cmd_train(a) -> int:
    from .results import RunStore
    sets = _sets(a)
    store = RunStore(a.out)
    seed = int(sets.pop("seed", 0))
    t0 = time.perf_counter()
    rec = store.run(a.method, seed=seed, preset=a.preset, corpus=a.corpus, rerun=True,
                    progress=not a.quiet, **sets)
    print(f"{a.method} (seed {seed}, {time.perf_counter() - t0:.1f} s): {_fmt(rec.metrics)}  (percent)")
    print(f"run stored in {store.path(store.key(a.method, a.corpus, a.preset, {**sets, 'seed': seed}))}")
    return 0


def cmd_compare(a) -> int:
    from .results import compare
    methods = [m.strip() for m in a.methods.split(",")] if a.methods else None
    sets = _sets(a)
    t0 = time.perf_counter()
    budgets = [int(b) for b in a.budgets.split(",")] if a.budgets else None
    df = compare(methods, seeds=a.seeds, preset=a.preset, corpus=a.corpus, out=a.out, rerun=a.rerun,
                 progress=not a.quiet, budgets=budgets, **sets)
    print((__import__("pathlib").Path(a.out) / "results.md").read_text())
    print(f"{len(df)} method(s), {a.seeds} seed(s) in {time.perf_counter() - t0:.0f} s. "
          f"Table: {a.out}/results.md and {a.out}/results.csv; plots: {a.out}/*.png")
    return 0


def cmd_corpus(a) -> int:
    from .corpora.folder import write_folder
    from .synth.corpus import builtin_corpus
    ccfg, _ = get_config(a.preset, **parse_sets(a.set))
    clips = builtin_corpus(ccfg, progress=not a.quiet)
    path = write_folder(clips, a.out, progress=not a.quiet)
    print(f"wrote {len(clips)} clips to {path} (audio/*.wav, video/*.mp4, labels.csv)")
    return 0


def cmd_teacher(a) -> int:
    from .teacher import train_teacher
    ccfg, tcfg = get_config(a.preset, **parse_sets(a.set))
    res = train_teacher(ccfg, tcfg, progress=not a.quiet, refresh=True)
    print(f"face teacher: frame accuracy on held-out identities {res['heldout_acc']:.1f} % "
          f"({res['seconds']:.0f} s); cached at {res['path']}")
    return 0


def cmd_face(a) -> int:
    from .teacher import describe_file
    ccfg, tcfg = get_config(a.preset, **parse_sets(a.set))
    print(describe_file(a.path, ccfg, tcfg))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="sertools", description="Speech emotion recognition with scarce labels: a teaching kit.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("compare", help="run methods over seeds, write results.csv, results.md and plots")
    p.add_argument("--methods", default=None, help="comma-separated method names (default: all)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--out", default="results")
    p.add_argument("--rerun", action="store_true", help="train again even when a stored run exists")
    p.add_argument("--budgets", default=None, help="label budgets (clips per class) for the budget curve, e.g. 5,10,30")
    _common(p)
    p.set_defaults(fn=cmd_compare)
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
    try:
        return a.fn(a)
    except (ConfigError, ValueError, OSError) as e:  # OSError: missing files, FER2013 weights
        print(f"sertools {a.cmd}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished runs are kept in the results folder", file=sys.stderr)
        return 130
