"""Which differences are real: confidence intervals and paired tests over seeds.

A comparison repeats every method with the same seeds, and a seed fixes the
labeled clips, the labeled batches and the initial weights
(``train.batch_streams``), so two methods' scores on one seed form a pair.
Pairing removes what the seed does to both (a lucky labeled subset lifts
every method alike) and leaves the difference the methods make.

- ``mean_ci``: the mean over seeds and the half-width of its 95 % Student-t
  confidence interval, t(0.975, n - 1) * sd / sqrt(n).
- ``paired_test``: the mean paired difference, its 95 % interval and the
  two-sided p-value of the paired t-test (``scipy.stats.ttest_rel``), with a
  verdict: ``better`` or ``worse`` when p < ``ALPHA``, else ``within noise``.
  A difference with no spread at all (every seed moved by the same amount)
  is ``better`` or ``worse``; identical columns are ``within noise``.

With 5 seeds a paired t-test finds a difference of about 1.3 standard
deviations of the per-seed differences (80 % power at alpha 0.05); smaller
real differences read as "within noise", which is the honest answer. Ten
methods tested against one baseline at alpha 0.05 will call about one in
twenty null differences real: read a lone "better" with p near 0.05 with
care. ``holm`` corrects for that: the tables' verdicts use it.

- ``holm``: Holm's step-down correction (Holm 1979) of the p-values of one
  table's comparisons, through ``statsmodels``' ``multipletests``. Sort the
  N p-values, multiply the k-th smallest by (N - k + 1), carry the running
  maximum upwards and cap at 1: p = (0.01, 0.04, 0.03) gives (0.03, 0.06,
  0.06). Every verdict at p_holm < ``ALPHA`` then holds with a chance of at
  most ``ALPHA`` that any of the N is a false "better" or "worse" (the
  family-wise error rate), whatever the tests' dependence; a raw p = 0.049
  among ten comparisons becomes at least 0.49.
- ``verdict``: better / within noise / worse from a difference and a p-value.

Holm, S. (1979). A simple sequentially rejective multiple test procedure.
Scandinavian Journal of Statistics, 6(2), 65-70.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

ALPHA = 0.05
VERDICTS = ("better", "within noise", "worse")


def mean_ci(values) -> tuple[float, float]:
    """(mean, half-width of the 95 % t interval); the half-width is NaN for one value."""
    v = np.asarray(values, float)
    if len(v) == 0:
        return float("nan"), float("nan")
    if len(v) < 2:
        return float(v.mean()), float("nan")
    half = stats.t.ppf(1 - ALPHA / 2, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
    return float(v.mean()), float(half)


def paired_test(a, b) -> dict:
    """Paired comparison of ``a`` against ``b`` (same seeds, same order).

    Returns diff (mean of a - b), diff_ci (95 % half-width), p (two-sided
    paired t-test) and verdict (``better``, ``within noise``, ``worse``; ``n/a``
    with fewer than two pairs).
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError(f"paired_test needs the same seeds on both sides, got {a.shape} and {b.shape}")
    d = a - b
    diff, half = mean_ci(d)
    if len(d) < 2:
        return {"diff": diff, "diff_ci": half, "p": float("nan"), "verdict": "n/a"}
    if np.allclose(d, d[0], rtol=0, atol=1e-9):  # no spread: the t statistic is undefined
        p = 1.0 if abs(d[0]) < 1e-9 else 0.0
    else:
        p = float(stats.ttest_rel(a, b).pvalue)
    return {"diff": diff, "diff_ci": half, "p": p, "verdict": verdict(diff, p)}


def verdict(diff: float, p: float) -> str:
    """``better`` / ``worse`` when ``p`` < ``ALPHA`` (by the sign of ``diff``),
    ``within noise`` otherwise, ``n/a`` when there is no p-value (one seed)."""
    if not np.isfinite(p):
        return "n/a"
    return "within noise" if p >= ALPHA else ("better" if diff > 0 else "worse")


def holm(pvalues) -> np.ndarray:
    """Holm-corrected p-values, in the order given (``multipletests(method="holm")``).

    NaN entries (no test: one seed) stay NaN and do not count among the
    comparisons: N is the number of finite p-values."""
    from statsmodels.stats.multitest import multipletests
    p = np.asarray(pvalues, float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], alpha=ALPHA, method="holm")[1]
    return out


def gap_closed(method: float, baseline: float, ceiling: float) -> float:
    """(method - baseline) / (ceiling - baseline): the share of the way from the
    few-label baseline to the all-label ceiling that a method covers (1 = all
    of it, 0 = none, negative = below the baseline); NaN without a gap."""
    gap = ceiling - baseline
    return float((method - baseline) / gap) if gap > 1e-9 else float("nan")
