"""Speed figures (``make bench``): medians of repeated runs, printed.

    python -m sertools.bench [--preset default] [--repeats 3] [--methods a,b]

Prints: corpus generation time (fresh cache), face teacher training time,
feature extraction time, the data pipeline's share of a training step, and
each deep method's wall time per run; then the accuracy section: the
speech model against the SVM on eGeMAPS with all training labels and with
the default budget, its calibration (ECE) on the test set and domain B, and
how right FixMatch's kept pseudo-labels are (issue 13). Goals (issues 2-5, on a 2-core CPU,
default preset): corpus <= 30 s, teacher <= 120 s, supervised <= 20 s,
every other deep method <= 60 s, data pipeline <= 20 % of a step.

The measurements the docs cite live here too, each a function to call:
``validation_choices`` (the protocol's defaults, decided on validation),
``copies_check``, ``twin_spread`` (what the training path alone does to a
paired difference) and ``cue_by_strength`` (an asked voice cue beside what
eGeMAPS measures of it).
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
    from .augment import SpecAugment
    from .models import speech_model
    from .train import crop_frames, crop_generators, make_batch, optimiser
    model = speech_model(views.n_in, views.n_classes, tcfg)
    opt, _ = optimiser(model, tcfg)
    crop, gens = crop_frames(tcfg), crop_generators(tcfg.seed)
    strong = SpecAugment()
    t_data = t_all = 0.0
    for i in range(steps):
        t0 = time.perf_counter()
        idx = torch.randint(0, len(views.labeled), (tcfg.batch_size,))
        batch = make_batch(views, idx, None, torch.device("cpu"), crop, gens)
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


def encoder_speed(tcfg, batch: int = 96, frames: int = 50, repeats: int = 20) -> dict:
    """Median ms of a forward and backward pass through the speech model's
    encoder (``tcfg``'s sizes, a padded batch of ``batch`` clips of ``frames``
    frames), with ``nn.TransformerEncoderLayer`` and with the kit's
    ``models.EncoderLayer`` (same weights)."""
    from torch import nn
    from .models import EncoderLayer, transformer_encoder
    x = torch.randn(batch, frames, tcfg.d_model, requires_grad=True)
    pad = torch.zeros(batch, frames, dtype=torch.bool)
    pad[: batch // 2, frames * 3 // 4:] = True
    out = {}
    for name, cls in (("library", nn.TransformerEncoderLayer), ("kit", EncoderLayer)):
        torch.manual_seed(0)
        enc = transformer_encoder(tcfg.d_model, tcfg.n_heads, tcfg.n_layers, tcfg.dim_ff, tcfg.dropout,
                                  tcfg.attn_dropout, layer=cls).train()
        step = lambda: enc(x, src_key_padding_mask=pad)[~pad].sum().backward()  # noqa: E731
        step()
        out[name] = 1000 * _median_time(step, repeats)[0]
    return out


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
        tables[n] = compare(methods, seeds=seeds, preset=preset, out=out, progress=False,
                            jobs=n, ceiling=False)
        times[n] = time.perf_counter() - t0
    cols = ["method", "f1", "wa", "ua", "ua_per_seed"]
    same = tables[1][cols].equals(tables[jobs][cols])
    return {"sequential": times[1], "parallel": times[jobs], "ratio": times[jobs] / times[1], "identical": same}


def difficulty(clips, feats) -> tuple[float, float]:
    """UA (%) of logistic regression on pooled log-mel statistics (mean and std
    per band) with ALL training-pool labels: on the test speakers (domain A)
    and on the unlabeled pool (domain B). A yardstick, not a target: the world is calibrated against the
    outside judge (``sertools.judge``)."""
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
    """``make bench``: print the speed (and, with --only accuracy, the accuracy) figures."""
    from .config import get_config
    from .methods import METHODS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="default")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--grid-methods", default=GRID_METHODS, help="the cells of the parallel-grid figure")
    ap.add_argument("--grid-seeds", type=int, default=2)
    ap.add_argument("--only", choices=["all", "grid", "accuracy"], default="all",
                    help="grid: only the parallel-grid figure; accuracy: only the accuracy section")
    ap.add_argument("--seeds", type=int, default=3, help="seeds of the accuracy section (5 at the default budget)")
    ap.add_argument("--no-accuracy", dest="accuracy", action="store_false",
                    help="speed figures only (skip the accuracy section, about 5 minutes)")
    a = ap.parse_args(argv)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; preset {a.preset}; medians of {a.repeats}")
    os.environ["SERTOOLS_CACHE"] = tempfile.mkdtemp(prefix="sertools-bench-")
    from .audio import classic_logmel_config, corpus_features
    from .experiment import get_clips, get_views, run
    from .synth.corpus import builtin_corpus
    from .teacher import train_teacher
    ccfg, tcfg = get_config(a.preset)
    if a.only == "grid":
        return print_grid_ratio(a)
    if a.only == "accuracy":
        return accuracy(a.preset, a.seeds)

    t0 = time.perf_counter()
    clips = builtin_corpus(ccfg, progress=False)
    print(f"corpus generation ({len(clips)} clips with video): {time.perf_counter() - t0:.1f} s   [goal <= 60 s]")
    t0 = time.perf_counter()
    feats = corpus_features(clips, classic_logmel_config(tcfg), key=None)
    print(f"log-mel features of all clips (25 ms, 40 bands): {time.perf_counter() - t0:.1f} s")
    ua_a, ua_b = difficulty(clips, feats)
    print(f"difficulty: logistic regression on pooled log-mel statistics, all {len(clips.indices('train'))} "
          f"training labels: UA {ua_a:.1f} % on test speakers (domain A), {ua_b:.1f} % on the unlabeled "
          f"domain B   [no target here: the outside judge calibrates the world, docs/emotion-cues.md]")
    del feats
    t0 = time.perf_counter()
    res = train_teacher(ccfg, tcfg, progress=False)
    print(f"face teacher training: {time.perf_counter() - t0:.1f} s, held-out identity frame accuracy "
          f"{res['heldout_acc']:.1f} %   [goal <= 120 s]")
    get_clips("builtin", ccfg, progress=False)
    t0 = time.perf_counter()
    views = get_views("builtin", ccfg, tcfg, with_face=True)  # the teacher's clip distributions, once
    print(f"views and face teacher clip distributions: {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    corpus_features(clips, tcfg, key=None)
    print(f"the speech model's inputs ({tcfg.frontend}, {tcfg.win_ms:g} ms, {views.n_in} per frame"
          f"{', with pitch tracks' if tcfg.pitch_tracks else ''}): {time.perf_counter() - t0:.1f} s")
    step_s, share = pipeline_share(views, tcfg)
    print(f"supervised step: {1000 * step_s:.1f} ms, data pipeline (batch + SpecAugment) {100 * share:.1f} % of it   [goal <= 20 %]")
    enc = encoder_speed(tcfg)
    print(f"encoder forward + backward (96 clips x 50 frames): nn.TransformerEncoderLayer {enc['library']:.1f} ms, "
          f"the kit's EncoderLayer {enc['kit']:.1f} ms, ratio {enc['kit'] / enc['library']:.2f}")
    for m in a.methods.split(","):
        med, times = _median_time(lambda: run(m, preset=a.preset, progress=False), a.repeats)
        goal = 20 if m == "supervised" else 60
        print(f"{m:22s} {med:6.1f} s per run (runs: {', '.join(f'{t:.1f}' for t in times)})   [goal <= {goal} s]")
    print_grid_ratio(a)
    if a.accuracy:
        accuracy(a.preset, a.seeds)


def print_grid_ratio(a) -> None:
    """The parallel grid's figure: the same cells in sequence and on 2 workers."""
    methods = a.grid_methods.split(",")
    from .grid import prepare
    prepare(methods, a.preset, progress=False)
    r = grid_ratio(a.preset, methods, a.grid_seeds)
    print(f"grid of {len(methods)} methods x {a.grid_seeds} seeds: sequential {r['sequential']:.0f} s, "
          f"2 workers {r['parallel']:.0f} s, ratio {r['ratio']:.2f}   [goal <= 0.55]; "
          f"tables identical: {r['identical']}")


def _b_scores(rec, preset, **kw):
    """(UA %, ECE %) of a run's final model on the unlabeled domain B, and the
    ECE on the test set."""
    from .experiment import predict_view
    from .metrics import evaluate, expected_calibration_error
    P, y = predict_view(rec, "unlabeled", preset, **kw)
    return (evaluate(y, P.argmax(1), P.shape[1])["ua"], expected_calibration_error(P, y),
            expected_calibration_error(rec.probs, rec.y_true))


def _msd(values) -> str:
    """Mean +- sample sd of the finite values (a run that kept no pseudo-label has none)."""
    import numpy as np
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return "  n/a"
    sd = v.std(ddof=1) if len(v) > 1 else 0.0
    return f"{v.mean():5.1f} +- {sd:4.1f}" + (f" ({len(v)} of {len(values)})" if len(v) < len(values) else "")


def accuracy(preset: str, seeds: int = 3) -> None:
    """Issue 13's yardsticks, from one run: the speech model against the
    classic SVM on the same test split, with all labels and with the default
    budget, and how right FixMatch's kept pseudo-labels are on domain B."""
    from .classic import run as classic_run
    from .config import get_config
    from .experiment import run
    _, tcfg = get_config(preset)
    every = 1_000_000  # a budget larger than the pool: every training label
    print(f"accuracy (test UA %, mean +- sd over seeds 0-{seeds - 1}; domain B = the unlabeled pool, true labels hidden from training):")
    for n, label in ((every, "all labels"), (tcfg.n_labeled, f"{tcfg.n_labeled} labels/class")):
        ns = range(seeds if n == every else max(seeds, 5))
        recs = [run("supervised", preset=preset, progress=False, n_labeled=n, seed=s) for s in ns]
        b = [_b_scores(r, preset, n_labeled=n, seed=s) for r, s in zip(recs, ns)]
        svm = [classic_run("svm", preset=preset, progress=False, n_labeled=n, seed=s,
                           classic_features="egemaps").metrics["ua"] for s in ns]
        print(f"  {label:18s} speech model {_msd([r.metrics['ua'] for r in recs])} ({len(recs)} seeds, "
              f"{statistics.median(r.seconds for r in recs):.1f} s per run) | svm on egemaps {_msd(svm)}")
        print(f"  {'':18s} speech model on domain B: UA {_msd([x[0] for x in b])}; ECE test {_msd([x[2] for x in b])}, "
              f"domain B {_msd([x[1] for x in b])}")
    fm = [run("fixmatch", preset=preset, progress=False, seed=s) for s in range(seeds)]
    last = [r.history[-1] for r in fm]
    b = [_b_scores(r, preset, seed=s) for r, s in zip(fm, range(seeds))]
    print(f"  fixmatch, {tcfg.n_labeled} labels/class: test UA {_msd([r.metrics['ua'] for r in fm])}; at the end of "
          f"training {_msd([100 * h['mask_rate'] for h in last])} % of domain-B clips kept, pseudo-labels right "
          f"{_msd([100 * h['pl_acc'] for h in last])} %   [goal >= 60 %]")
    print(f"  {'':18s} fixmatch on domain B: UA {_msd([x[0] for x in b])}; ECE test {_msd([x[2] for x in b])}, "
          f"domain B {_msd([x[1] for x in b])}")


if __name__ == "__main__":
    main()


def copies_check(seeds=(0, 1, 2, 3, 4), copies=(0, 1), preset: str | None = None, method: str = "supervised",
                 corpus: str = "builtin", **overrides) -> dict:
    """Validation UA with and without the multi-condition copies (issue 26, item 3).

    Trains ``method`` once per seed and per ``channel_copies`` value and
    prints, for each value, the validation UA (mean +- sd over the seeds):
    the best evaluation's (what ``select="best"`` keeps) and the last one's.
    Test scores are not printed: the built-in default of ``channel_copies``
    is to be chosen on validation alone. ``overrides`` go to every run.

        python -c "from sertools.bench import copies_check; copies_check()"

    Returns {copies: {"best": [...], "last": [...]}} (UA %, one per seed).
    """
    from .experiment import run
    out = {}
    for k in copies:
        best, last = [], []
        for s in seeds:
            rec = run(method, preset=preset, corpus=corpus, progress=False, seed=s, channel_copies=k, **overrides)
            best.append(rec.metrics["best_val_ua"])
            last.append(rec.history[-1]["val_ua"])
        out[k] = {"best": best, "last": last}
        print(f"{method}, channel_copies={k}: validation UA best {_msd(best)}, last {_msd(last)} "
              f"(seeds {list(seeds)})", flush=True)
    return out


STAGES = ("track_norm", "copies", "inputs", "lr", "budget")


def validation_choices(seeds=(0, 1, 2), preset: str = "default", budget: int = 20, budgets=(10, 20, 30),
                       stages=STAGES) -> dict:
    """Decide the speech model's protocol defaults on the validation split (docs/methods.md, "Choices made on
    validation"), one after the other, each at the choices before it: the pitch tracks' normalisation among
    the non-transductive options ("track_norm"), the built-in corpus's re-recorded copies ("copies"), the
    spectrum's normalisation, the training window and the checkpoint rule ("inputs": ``norm``, ``crop_s``,
    ``select``), the optimiser's peak learning rate, the same for every method ("lr": the current one, twice
    and four times it, and half of it), then the label budget against the converged all-label ceiling
    ("budget": ``label_budget``, on the validation UA of the checkpoints that would be tested,
    ``tested_val_ua``, since the ceiling and the short runs are evaluated a different number of times; the
    other stages compare runs evaluated alike, on their best validation UA). A stage left out of ``stages``
    keeps the preset's current value. Prints validation UA while choosing and the test UA and ua_b of every
    candidate only at the end, after every choice is made.

    The current value stays unless a candidate beats it by more than the seeds' spread: its paired gain (the
    same seeds) must exceed the gain's sd over the seeds (``better_than_current``). A difference smaller than
    its seeds' spread is not a finding, and the highest mean alone would pick on noise.

    A rule that picks on validation cannot be judged on the clips it picked on, so ``select`` is decided by
    2-fold cross-validation over the validation speakers (``split_validation``): the best checkpoint on one
    half against the last one, both scored on the other half.

    ``python -c "from sertools.bench import validation_choices; validation_choices()"`` (about 60 supervised
    runs and three ceilings: tens of minutes on 2 cores).
    """
    import numpy as np

    from .config import get_config
    from .core import path_seed
    from .experiment import get_clips, get_views, run
    from .methods import make_method
    from .models import speech_model
    from .results import ceiling_knobs
    from .train import fit, seed_everything
    runs: dict[str, list] = {}
    tcfg = get_config(preset)[1]
    chosen = {"track_norm": tcfg.track_norm, "channel_copies": tcfg.channel_copies, "norm": tcfg.norm,
              "crop_s": tcfg.crop_s, "select": tcfg.select, "lr": tcfg.lr, "n_labeled": budget}

    def val(tag, tested=False, **kw):
        kw = {**chosen, **kw}
        runs[tag] = [run("supervised", preset=preset, progress=False, seed=s, **kw) for s in seeds]
        v = np.array([tested_val_ua(r, chosen["select"]) if tested else r.metrics["best_val_ua"] for r in runs[tag]])
        print(f"{tag}: val UA {_msd(v)}", flush=True)
        return v

    def others(current, options):  # the current value first, then the other candidates
        return (current,) + tuple(o for o in options if o != current)

    def pick(key, candidates, first=None):
        scores = {c: first if (c == candidates[0] and first is not None) else val(f"{key}={c}", **{key: c})
                  for c in candidates}
        if first is not None:
            print(f"{key}={candidates[0]}: val UA as the choice before ({first.mean():.1f})", flush=True)
        chosen[key] = better_than_current(key, {c: scores[c] for c in candidates})
        return scores[chosen[key]]

    score = None
    if "track_norm" in stages:
        score = pick("track_norm", others(chosen["track_norm"], ("utterance", "utterance_mean", "pool")))
        val("track_norm=speaker (transductive: not a candidate)", track_norm="speaker")
    if "copies" in stages:
        score = pick("channel_copies", (chosen["channel_copies"] or 0, 1 - (chosen["channel_copies"] or 0)), score)
    if "inputs" in stages:
        score = pick("norm", others(chosen["norm"], ("utterance", "utterance_mean", "pool")), score)
        pick("crop_s", others(chosen["crop_s"], (1.0, 0.0, 1.5)), score)  # clips are 1.2-2.0 s: 2 s is whole
        picked = {"best": [], "last": []}
        ccfg, _ = get_config(preset, **chosen)
        clips = get_clips("builtin", ccfg, progress=False)
        for s in seeds:
            tcfg = get_config(preset, **chosen, seed=s)[1]
            views = get_views("builtin", ccfg, tcfg, progress=False)
            for fold in (0, 1):
                seed_everything(path_seed(tcfg))
                rec = fit(make_method("supervised", tcfg), speech_model(views.n_in, views.n_classes, tcfg),
                          split_validation(views, clips, fold), tcfg, progress=False)
                for rule in picked:
                    picked[rule].append(rec.metrics[f"ua_{rule}"])
        for rule, v in picked.items():
            print(f"select={rule}: UA on the other half of the validation speakers {_msd(v)}", flush=True)
        chosen["select"] = better_than_current("select", {r: np.array(picked[r])
                                                          for r in others(chosen["select"], ("best", "last"))})
    if "lr" in stages:  # the same optimiser for every method: one step budget, one peak learning rate
        score = pick("lr", others(chosen["lr"], tuple(chosen["lr"] * f for f in (2, 4, 0.5))), score)
    if "budget" in stages:
        ccfg, tcfg = get_config(preset, **chosen)
        roof = val("ceiling", tested=True, **ceiling_knobs(get_clips("builtin", ccfg), tcfg))
        gaps = {b: float(roof.mean() - val(f"budget {b}", tested=True, n_labeled=b).mean()) for b in budgets}
        chosen["n_labeled"] = label_budget(gaps)
        chosen["gaps"] = gaps
    print("chosen: " + ", ".join(f"{k}={v}" for k, v in chosen.items()))
    for tag, recs in runs.items():
        print(f"{tag}: test UA {_msd([r.metrics['ua'] for r in recs])}, "
              f"ua_b {_msd([r.metrics.get('ua_b', np.nan) for r in recs])}")
    return chosen


def tested_val_ua(record, select: str) -> float:
    """The validation UA of the checkpoint a run's test score comes from: the last evaluation's under
    ``select="last"``, the best one's under ``"best"``. The budget rule compares these rather than each run's
    best evaluation: the ceiling is evaluated some 28 times, a 300-step run 6 times, and the best of more noisy
    evaluations lies further above a model's typical score by chance alone."""
    return float(record.history[-1]["val_ua"] if select == "last" else record.metrics["best_val_ua"])


def label_budget(gaps: dict, points: float = 10.0):
    """The default label budget: the largest candidate whose mean validation gap to the converged all-label
    ceiling (``gaps``: budget -> ceiling minus budget, in UA points) is at least ``points``; None if none is."""
    return max([b for b, g in gaps.items() if g >= points], default=None)


def better_than_current(key: str, scores: dict):
    """The value ``validation_choices`` keeps for ``key``: the first of ``scores`` (the current value, its
    per-seed validation UA) unless another's paired gain over the same seeds is larger than that gain's sd
    over the seeds; of several such, the largest gain. Prints each gain."""
    current, *rest = scores
    gains = {c: scores[c] - scores[current] for c in rest}
    for c, g in gains.items():
        print(f"  {key}={c} against {current}: {g.mean():+.1f} +- {g.std(ddof=1):.1f} (paired over seeds)", flush=True)
    better = {c: g.mean() for c, g in gains.items() if g.mean() > g.std(ddof=1)}
    return max(better, key=better.get) if better else current


TWIN_OFFSET = 1_000_003  # a twin's path_seed is its seed plus this: no other run of a comparison has it


def twin_spread(seeds=range(10), preset: str = "default", method: str = "supervised", **overrides):
    """How much a run's validation UA moves when only its training path changes: each seed's run beside its
    twin, which has the same labeled clips, batches and windows but other initial weights, dropout and
    augmentation draws (``path_seed`` = seed + ``TWIN_OFFSET``). The twins' paired differences are what two
    methods that learn nothing from each other's extra data would differ by on the same seeds, so their sd
    says how wide a paired interval over seeds must be, whatever the test set's size. Returns a DataFrame
    (seed, val UA of the last evaluation for the run and the twin, their difference) and prints the sd and
    the half-width of the paired 95 % interval it implies over 5 seeds."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    from .experiment import run
    rows = [{"seed": s, **{name: run(method, preset=preset, progress=False, seed=s, path_seed=p, **overrides)
                           .history[-1]["val_ua"] for name, p in (("run", None), ("twin", s + TWIN_OFFSET))}}
            for s in seeds]
    d = pd.DataFrame(rows).assign(diff=lambda f: f.twin - f.run)
    sd = d["diff"].std(ddof=1)
    half = stats.t.ppf(0.975, 4) * sd / np.sqrt(5)
    print(f"{method} {overrides or ''}: val UA {_msd(np.r_[d.run, d.twin])}; twin differences sd {sd:.2f} over "
          f"{len(d)} seeds: a paired 95 % interval over 5 seeds of about +-{half:.1f}", flush=True)
    return d


def cue_by_strength(emotion: str = "sad", strengths=(0.25, 0.4, 0.6, 1.0), cue: str = "range_st",
                    column: str = "F0semitoneFrom27.5Hz_sma3nz_pctlrange0-2", n_speakers: int = 12,
                    n_clips: int = 8, seconds: float = 2.0, seed: int = 0, kind: str = "egemaps",
                    whole_range: bool = False):
    """What the synthesizer was asked for against what a feature extractor measures, one cue at a time.

    ``n_speakers`` speakers of ``voice.random_speaker`` (expressivity set to 1, so the strength is the
    intensity) each say ``n_clips`` clean clips (no channel) of ``seconds`` in neutral and in ``emotion``
    at every strength of ``strengths``. For each strength the table gives the measured ``column``
    (``prosody.feature_table`` of ``kind``) as a ratio to the same speaker's neutral clips, its mean and
    sd over the speakers, and the ratio ``voice.cues_for`` asked for of ``cue``. ``whole_range`` is
    ``synthesize``'s: False (the acted style) asks for the spread of the syllable targets only, and the
    20-80 % range that eGeMAPS measures also takes in the sad contour's downward glides and its steeper
    fall, so a sad voice measures about as wide as neutral; True (the natural style) scales the whole
    contour, and the measured range follows the asked one (docs/results.md, "The world")."""
    import numpy as np
    import pandas as pd

    from .prosody import feature_table
    from .synth.voice import VOICE_CUES, cues_for, random_speaker, synthesize
    speakers = [random_speaker(np.random.default_rng([seed, i]), f"S{i:02d}") for i in range(n_speakers)]
    for s in speakers:
        s.expressivity = 1.0

    def measure(e, k, ki):
        waves = [synthesize(e, k, s, seconds, np.random.default_rng([seed, i, ki, j]), whole_range=whole_range)[0]
                 for i, s in enumerate(speakers) for j in range(n_clips)]
        f = feature_table(waves, progress=False, kind=kind)[column].to_numpy()
        return f.reshape(n_speakers, n_clips).mean(1)

    neutral = measure("neutral", 0.0, 0)
    rows = []
    for ki, k in enumerate(strengths, start=1):
        r = measure(emotion, k, ki) / neutral
        rows.append({"strength": k, "measured": r.mean(), "sd over speakers": r.std(ddof=1),
                     "asked": cues_for(emotion, k)[cue] / VOICE_CUES["neutral"][cue]})
    return pd.DataFrame(rows).set_index("strength").round(2)


def split_validation(views, clips, fold: int):
    """The views for deciding on validation alone: the validation speakers cut in two halves (sorted
    speaker ids, alternating), one half as the validation view that picks checkpoints and stops early,
    the other as the "test" view that scores them; no test or test_b clip is in them. ``fold`` 0 or 1
    says which half selects."""
    import dataclasses

    import numpy as np
    speakers = clips.table["speaker"].to_numpy()[views.val.rows]
    halves = [set(sorted(set(speakers))[k::2]) for k in (0, 1)]

    def part(half):
        keep = np.flatnonzero(np.isin(speakers, list(half)))
        v = views.val
        return dataclasses.replace(v, x=v.x[keep], y=v.y[keep], rows=v.rows[keep],
                                   lengths=None if v.lengths is None else v.lengths[keep],
                                   face=None if v.face is None else v.face[keep])
    return dataclasses.replace(views, val=part(halves[fold]), test=part(halves[1 - fold]), test_b=None)
