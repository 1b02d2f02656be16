"""Known answers: FixMatch and Mean Teacher must beat supervised on digits.

On scikit-learn's digits with 5 labels per class, semi-supervised learning
is known to help a lot (few labels, clean clusters, augmentations that keep
the class; ``sertools.digits``). The same method classes and the same
``fit`` loop that train the speech model train a small MLP here; if FixMatch
or Mean Teacher do not beat the supervised baseline by a clear margin, an
implementation (or the loop) is broken.

Set-up: ``run_digits`` with the library's settings (DIGITS_TRAIN,
DIGITS_KNOBS: 1000 steps, evaluation every 100, the same for every method),
seeds 0 and 1, paired (a seed fixes the labeled images and the initial weights).

The margins come from measurements of exactly this set-up, MEASURED below.
The assertion is on the mean paired gain over the two seeds *and* on the
worst seed, each with a margin well under what was measured, so that a
broken method (gain about 0) fails and a working one does not flake.
The second test checks that the first can fail: FixMatch with lambda_u = 0
is supervised learning with extra forward passes, and must not clear the
margin.
"""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from sertools.digits import compare_digits, digits_views, run_digits

SEEDS = (0, 1)      # two seeds keep the test under a minute of one CPU thread
N_LABELED = 5

# Test UA (%) measured with exactly this set-up, seeds 0-9 (5 labels per class, 1000 steps),
# with the training loop of 0c10c81 and later (a labeled batch stream of its own per seed,
# Mean Teacher's EMA warm-up; the figures before it are in git history):
#
#   seed               0    1    2    3    4    5    6    7    8    9   gain: mean  sd  worst
#   supervised       89.6 84.0 88.8 87.2 86.4 81.1 86.2 84.4 78.2 84.4
#   fixmatch         92.3 88.3 91.0 90.8 93.0 85.6 94.0 90.3 94.6 89.6      +5.9  4.1  +2.2
#   mean_teacher     93.8 87.2 93.0 92.4 92.4 84.3 92.0 89.6 87.1 88.1      +5.0  1.7  +3.2
#   fixmatch, lu=0   89.4 85.0 89.2 87.8 85.5 80.9 84.6 85.6 79.3 85.0      +0.2  0.9  -1.6 (best +1.1)
#
# Over all 45 pairs of these seeds, the mean gain of two seeds was at least
# +2.4 (fixmatch) and +3.2 (mean teacher), and no seed gained less than +2.2;
# FixMatch with lambda_u = 0 never gained more than +1.1 on a seed or on a
# pair (its pair means lie in -1.2 .. +1.1). The margins sit between the two,
# and each one alone separates them: the mean over SEEDS must gain
# MARGIN_MEAN (1.8: 0.6 under the worst working pair, 0.7 above the best
# lambda_u = 0 pair and 0.6 above the largest |pair mean| the second test
# allows it; per seed the spread is 1.7-4.1 points, so a two-seed mean moves
# by about 1.2-2.9) and every seed MARGIN_WORST (1.5: the worst working seed
# is 0.7 above it, the best lambda_u = 0 seed 0.4 below it). The earlier
# margins (2.0 and 1.0) would still pass and fail the same pairs, but the
# best lambda_u = 0 seed (+1.1) now clears 1.0, so that check no longer
# separated on its own. On CPU a run is deterministic for a seed, so the test
# fails only if the code (or torch) changes; such a change moves the numbers
# about as a new seed does (0c10c81 moved fixmatch's gains by -1.9 .. +1.6
# points on seeds 0-9 and mean teacher's by -2.0 .. +1.8; supervised's runs
# gave the same numbers), which the margins cover. Seeds 0 and 1 measured:
# fixmatch +2.7, +4.3, mean teacher +4.2, +3.2, lambda_u = 0 -0.2, +1.0.
MARGIN_MEAN = 1.8    # mean paired gain over SEEDS, points
MARGIN_WORST = 1.5   # gain on the worst of SEEDS, points


@pytest.fixture(scope="module")
def ua():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # a tiny MLP: threads only add overhead on a shared machine
    try:
        t0 = time.perf_counter()
        df = compare_digits(["supervised", "fixmatch", "mean_teacher"], SEEDS, n_labeled=N_LABELED)
        table = df.pivot(index="seed", columns="method", values="ua")
        table["fixmatch_lambda0"] = [run_digits("fixmatch", N_LABELED, s, lambda_u=0.0).metrics["ua"] for s in SEEDS]
        print(f"\n{table.round(1)}\n({time.perf_counter() - t0:.1f} s)")
    finally:
        torch.set_num_threads(threads)
    return table


def test_digits_views_are_as_described():
    a, b = digits_views(N_LABELED, 0), digits_views(N_LABELED, 1)
    assert a.labeled.x.shape == (50, 1, 8, 8) and sorted(np.bincount(a.labeled.y.numpy())) == [5] * 10
    assert len(a.labeled) + len(a.unlabeled) + len(a.val) + len(a.test) == 1797
    assert (a.test.rows == b.test.rows).all() and (a.val.rows == b.val.rows).all()   # fixed held-out split
    assert set(a.labeled.rows) != set(b.labeled.rows)                                # the seed picks the labels
    assert not set(a.labeled.rows) & set(a.unlabeled.rows)
    pool = torch.cat([a.labeled.x, a.unlabeled.x])
    assert abs(float(pool.mean())) < 1e-4 and abs(float(pool.std()) - 1) < 1e-3      # training statistics


@pytest.mark.parametrize("name", ["fixmatch", "mean_teacher"])
def test_ssl_beats_supervised_on_digits(ua, name):
    gain = ua[name] - ua["supervised"]
    assert gain.mean() >= MARGIN_MEAN and gain.min() >= MARGIN_WORST, (
        f"{name} on digits: paired gains over supervised {gain.round(1).tolist()} (mean {gain.mean():.1f}); "
        f"expected mean >= {MARGIN_MEAN} and every seed >= {MARGIN_WORST} (measured: see MEASURED)")


def test_fixmatch_without_unlabeled_term_does_not_pass(ua):
    """lambda_u = 0 leaves only the supervised term: the margin must not be met."""
    gain = ua["fixmatch_lambda0"] - ua["supervised"]
    assert not (gain.mean() >= MARGIN_MEAN and gain.min() >= MARGIN_WORST), gain.tolist()
    assert abs(gain.mean()) < MARGIN_MEAN, f"lambda_u=0 should equal supervised within noise, gains {gain.tolist()}"
