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
