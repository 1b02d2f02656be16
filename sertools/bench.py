"""Speed figures (``make bench``): medians of repeated runs, printed.

    python -m sertools.bench [--preset default] [--repeats 3] [--methods a,b]

Prints: corpus generation time (fresh cache), face teacher training time,
feature extraction time, the data pipeline's share of a training step, and
each deep method's wall time per run. Goals (issues 2-5, on a 2-core CPU,
default preset): corpus <= 30 s, teacher <= 120 s, supervised <= 20 s,
every other deep method <= 60 s, data pipeline <= 20 % of a step.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time

import torch


def _median_time(fn, repeats: int) -> tuple[float, list]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def pipeline_share(views, tcfg, steps: int = 40) -> tuple[float, float]:
    """(seconds per supervised step, share of it spent fetching and augmenting the batch)."""
    from .augment import SpecAugment, WeakAugment
    from .methods import make_method
    from .models import speech_model
    from .train import make_batch
    model = speech_model(views.n_in, views.n_classes, tcfg)
    opt = torch.optim.AdamW(model.parameters(), lr=tcfg.lr)
    method, weak, strong = make_method("supervised", tcfg), WeakAugment(), SpecAugment()
    t_data = t_all = 0.0
    for i in range(steps):
        t0 = time.perf_counter()
        idx = torch.randint(0, len(views.labeled), (tcfg.batch_size,))
        batch = make_batch(views, idx, None, torch.device("cpu"))
        x = strong(batch["x"])
        t1 = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(x), batch["y"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        t2 = time.perf_counter()
        if i >= 5:  # skip warm-up
            t_data += t1 - t0
            t_all += t2 - t0
    return t_all / (steps - 5), t_data / t_all


GRID_METHODS = "supervised,fixmatch,mean_teacher,dcmkt_finetune,fusion_consistent,svm"


def grid_ratio(preset: str, methods: list[str], seeds: int, jobs: int = 2) -> dict:
    """Wall time of the same grid of cells run in sequence and on ``jobs``
    workers, each into a fresh store from the same (already prepared) cache,
    and whether the two tables are identical."""
    from .results import compare
    times, tables = {}, {}
    for n in (1, jobs):
        out = tempfile.mkdtemp(prefix=f"sertools-bench-grid{n}-")
        t0 = time.perf_counter()
        tables[n] = compare(methods, seeds=seeds, preset=preset, out=out, plots=False, progress=False,
                            jobs=n, ceiling=False)
        times[n] = time.perf_counter() - t0
    cols = ["method", "f1", "wa", "ua", "ua_per_seed"]
    same = tables[1][cols].equals(tables[jobs][cols])
    return {"sequential": times[1], "parallel": times[jobs], "ratio": times[jobs] / times[1], "identical": same}


def difficulty(clips, feats) -> tuple[float, float]:
    """UA (%) of logistic regression on pooled log-mel statistics (mean and std
    per band) with ALL training-pool labels: on the test speakers (domain A)
    and on the unlabeled pool (domain B). The corpus aims for 55-85 % on A."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from .metrics import unweighted_accuracy
    X = np.stack([torch.cat([f.mean(0), f.std(0)]).numpy() for f in feats])
    y = clips.table["label"].to_numpy()
    tr, te, un = (clips.indices(s) for s in ("train", "test", "unlabeled"))
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X[tr], y[tr])
    return unweighted_accuracy(y[te], clf.predict(X[te])), unweighted_accuracy(y[un], clf.predict(X[un]))


def main(argv=None):
    from .config import get_config
    from .methods import METHODS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="default")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--grid-methods", default=GRID_METHODS, help="the cells of the parallel-grid figure")
    ap.add_argument("--grid-seeds", type=int, default=2)
    ap.add_argument("--only", choices=["all", "grid"], default="all", help="grid: only the parallel-grid figure")
    a = ap.parse_args(argv)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; preset {a.preset}; medians of {a.repeats}")
    os.environ["SERTOOLS_CACHE"] = tempfile.mkdtemp(prefix="sertools-bench-")
    from .audio import corpus_features
    from .corpora import corpus_key
    from .experiment import get_clips, get_views, run
    from .synth.corpus import builtin_corpus
    from .teacher import train_teacher
    ccfg, tcfg = get_config(a.preset)
    if a.only == "grid":
        return print_grid_ratio(a)

    t0 = time.perf_counter()
    clips = builtin_corpus(ccfg, progress=False)
    print(f"corpus generation ({len(clips)} clips with video): {time.perf_counter() - t0:.1f} s   [goal <= 30 s]")
    t0 = time.perf_counter()
    feats = corpus_features(clips, tcfg, key=None)
    print(f"log-mel features of all clips: {time.perf_counter() - t0:.1f} s")
    ua_a, ua_b = difficulty(clips, feats)
    print(f"difficulty: logistic regression on pooled log-mel statistics, all {len(clips.indices('train'))} "
          f"training labels: UA {ua_a:.1f} % on test speakers (domain A), {ua_b:.1f} % on the unlabeled "
          f"domain B   [aim 55-85 % on A]")
    del feats
    t0 = time.perf_counter()
    res = train_teacher(ccfg, tcfg, progress=False)
    print(f"face teacher training: {time.perf_counter() - t0:.1f} s, held-out identity frame accuracy "
          f"{res['heldout_acc']:.1f} %   [goal <= 120 s]")
    get_clips("builtin", ccfg, progress=False)
    t0 = time.perf_counter()
    views = get_views("builtin", ccfg, tcfg, with_face=True)  # the teacher's clip distributions, once
    print(f"views and face teacher clip distributions: {time.perf_counter() - t0:.1f} s")
    step_s, share = pipeline_share(views, tcfg)
    print(f"supervised step: {1000 * step_s:.1f} ms, data pipeline (batch + SpecAugment) {100 * share:.1f} % of it   [goal <= 20 %]")
    for m in a.methods.split(","):
        med, times = _median_time(lambda: run(m, preset=a.preset, progress=False), a.repeats)
        goal = 20 if m == "supervised" else 60
        print(f"{m:22s} {med:6.1f} s per run (runs: {', '.join(f'{t:.1f}' for t in times)})   [goal <= {goal} s]")
    print_grid_ratio(a)


def print_grid_ratio(a) -> None:
    """The parallel grid's figure: the same cells in sequence and on 2 workers."""
    methods = a.grid_methods.split(",")
    from .grid import prepare
    prepare(methods, a.preset, progress=False)
    r = grid_ratio(a.preset, methods, a.grid_seeds)
    print(f"grid of {len(methods)} methods x {a.grid_seeds} seeds: sequential {r['sequential']:.0f} s, "
          f"2 workers {r['parallel']:.0f} s, ratio {r['ratio']:.2f}   [goal <= 0.55]; "
          f"tables identical: {r['identical']}")


if __name__ == "__main__":
    main()
