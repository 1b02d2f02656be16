"""The paper's metrics (KBS 2021, Sec. 4): WA, UA and F1, in percent.

- WA, weighted accuracy: overall accuracy (every clip counts once, so
  frequent classes weigh more).
- UA, unweighted accuracy: the mean of per-class recalls (every class counts
  once; the usual headline number in SER because corpora are unbalanced).
- F1: support-weighted F1 over classes, as the paper reports; macro F1 (every
  class counts once) beside it.

All come from scikit-learn.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score


def evaluate(y_true, y_pred, n_classes: int | None = None) -> dict[str, float]:
    """WA, UA, weighted F1 and macro F1, in percent."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) == 0:
        raise ValueError("evaluate() got no samples")
    labels = np.arange(n_classes) if n_classes else None
    return {
        "wa": 100.0 * accuracy_score(y_true, y_pred),
        "ua": unweighted_accuracy(y_true, y_pred),
        "f1": 100.0 * f1_score(y_true, y_pred, average="weighted", labels=labels, zero_division=0),
        "macro_f1": 100.0 * f1_score(y_true, y_pred, average="macro", labels=labels, zero_division=0),
    }


def unweighted_accuracy(y_true, y_pred) -> float:
    """UA in percent (scikit-learn's balanced accuracy)."""
    return 100.0 * balanced_accuracy_score(y_true, y_pred)


def confusion(y_true, y_pred, n_classes: int, normalize: str | None = "true") -> np.ndarray:
    """Confusion matrix, rows = true class; ``normalize="true"`` gives per-class recall rows."""
    return confusion_matrix(y_true, y_pred, labels=np.arange(n_classes), normalize=normalize)


def reliability(probs, y_true, n_bins: int = 10) -> dict[str, np.ndarray]:
    """Confidence against accuracy in equal-width confidence bins.

    probs : (N, C) predicted distributions; y_true : (N,) class indices.
    Returns per bin (empty bins are NaN): ``confidence`` (mean max
    probability), ``accuracy`` (share of argmax predictions that are right),
    ``count``, and the bin ``edges`` (n_bins + 1). A calibrated model's
    points lie on the diagonal: of the clips it gives 0.9, nine in ten are right.
    """
    probs, y_true = np.asarray(probs, float), np.asarray(y_true)
    conf, pred = probs.max(1), probs.argmax(1)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    b = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(b, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.bincount(b, weights=conf, minlength=n_bins) / count
        a = np.bincount(b, weights=(pred == y_true).astype(float), minlength=n_bins) / count
    return {"confidence": c, "accuracy": a, "count": count, "edges": edges}


def expected_calibration_error(probs, y_true, n_bins: int = 10) -> float:
    """ECE in percent (Guo et al. 2017): the count-weighted mean gap between
    confidence and accuracy over ``n_bins`` equal-width confidence bins.
    0 is perfectly calibrated; a model that is always sure (1.0) and right
    half the time has an ECE of 50."""
    r = reliability(probs, y_true, n_bins)
    ok = r["count"] > 0
    if not ok.any():
        raise ValueError("expected_calibration_error() got no samples")
    w = r["count"][ok] / r["count"].sum()
    return 100.0 * float(np.sum(w * np.abs(r["accuracy"][ok] - r["confidence"][ok])))
