"""The paper's metrics (sertools.metrics) against cases computed by hand.

WA = overall accuracy, UA = mean of per-class recalls, F1 = support-weighted
F1, macro F1 = unweighted mean of per-class F1; all in percent.
"""
from __future__ import annotations

import numpy as np
import pytest

from sertools.metrics import confusion, evaluate, unweighted_accuracy

# An unbalanced 3-class case where WA != UA and weighted F1 != macro F1.
#   y_true = 0 0 0 1 1 2
#   y_pred = 0 0 1 1 2 2
Y_TRUE = [0, 0, 0, 1, 1, 2]
Y_PRED = [0, 0, 1, 1, 2, 2]


def test_wa_is_overall_accuracy():
    # correct at positions 0, 1, 3, 5 -> 4 / 6
    assert evaluate(Y_TRUE, Y_PRED, 3)["wa"] == pytest.approx(100 * 4 / 6)


def test_ua_is_mean_per_class_recall():
    # recall: class 0 2/3, class 1 1/2, class 2 1/1 -> (2/3 + 1/2 + 1) / 3 = 13/18
    expected = 100 * (2 / 3 + 1 / 2 + 1) / 3
    assert expected == pytest.approx(72.2222, abs=1e-3)
    assert evaluate(Y_TRUE, Y_PRED, 3)["ua"] == pytest.approx(expected)
    assert unweighted_accuracy(Y_TRUE, Y_PRED) == pytest.approx(expected)


def test_weighted_and_macro_f1():
    # precision: class 0 2/2 = 1, class 1 1/2 (pred 1 at 2, 3; only 3 right), class 2 1/2 (pred 2 at 4, 5)
    # recall:    class 0 2/3,     class 1 1/2,                               class 2 1
    # F1 = 2PR/(P+R): class 0 2*(2/3)/(5/3) = 0.8, class 1 0.5, class 2 2*0.5/1.5 = 2/3
    # macro    = (0.8 + 0.5 + 2/3) / 3            = 0.65556
    # weighted = (3*0.8 + 2*0.5 + 1*(2/3)) / 6    = 4.0667 / 6 = 0.67778 (supports 3, 2, 1)
    m = evaluate(Y_TRUE, Y_PRED, 3)
    assert m["macro_f1"] == pytest.approx(100 * (0.8 + 0.5 + 2 / 3) / 3)
    assert m["f1"] == pytest.approx(100 * (3 * 0.8 + 2 * 0.5 + 2 / 3) / 6)
    assert m["f1"] == pytest.approx(67.7778, abs=1e-3)
    assert m["macro_f1"] == pytest.approx(65.5556, abs=1e-3)


def test_a_class_never_predicted_counts_as_zero():
    # y_true = 0 1 1 1, y_pred = 0 0 0 0 (class 1 never predicted)
    # WA = 1/4; recalls 1 and 0 -> UA = 1/2
    # class 0: P = 1/4, R = 1 -> F1 = 2*(1/4)/(5/4) = 0.4; class 1: P = 0/0 -> 0, F1 = 0
    # weighted = (1*0.4 + 3*0) / 4 = 0.1; macro = (0.4 + 0) / 2 = 0.2
    m = evaluate([0, 1, 1, 1], [0, 0, 0, 0], 2)
    assert m["wa"] == pytest.approx(25.0)
    assert m["ua"] == pytest.approx(50.0)
    assert m["f1"] == pytest.approx(10.0)
    assert m["macro_f1"] == pytest.approx(20.0)


def test_perfect_and_all_wrong():
    m = evaluate([0, 1, 2, 2], [0, 1, 2, 2], 3)
    assert m == pytest.approx({"wa": 100.0, "ua": 100.0, "f1": 100.0, "macro_f1": 100.0})
    m = evaluate([0, 1, 0, 1], [1, 0, 1, 0], 2)
    assert m == pytest.approx({"wa": 0.0, "ua": 0.0, "f1": 0.0, "macro_f1": 0.0})


def test_metrics_are_in_percent_and_accept_numpy_and_lists():
    a = evaluate(np.array(Y_TRUE), np.array(Y_PRED), 3)
    b = evaluate(Y_TRUE, Y_PRED, 3)
    assert a == pytest.approx(b)
    assert all(0.0 <= v <= 100.0 for v in a.values())
    assert a["wa"] > 1.0  # percent, not a fraction


def test_evaluate_refuses_an_empty_set():
    with pytest.raises(ValueError, match="no samples"):
        evaluate([], [], 3)


def test_confusion_normalised_rows_are_recalls():
    # rows = true class: class 0 -> predicted (0, 0, 1); class 1 -> (1, 2); class 2 -> (2)
    expected = np.array([[2 / 3, 1 / 3, 0.0],
                         [0.0, 1 / 2, 1 / 2],
                         [0.0, 0.0, 1.0]])
    C = confusion(Y_TRUE, Y_PRED, 3)
    np.testing.assert_allclose(C, expected)
    np.testing.assert_allclose(C.sum(1), 1.0)
    # the mean of the diagonal of the row-normalised matrix is UA
    assert 100 * np.diag(C).mean() == pytest.approx(evaluate(Y_TRUE, Y_PRED, 3)["ua"])


def test_confusion_counts_and_unseen_classes():
    counts = confusion(Y_TRUE, Y_PRED, 3, normalize=None)
    np.testing.assert_array_equal(counts, [[2, 1, 0], [0, 1, 1], [0, 0, 1]])
    # n_classes fixes the shape even when a class is absent; its row is all zero
    C = confusion([0, 0, 1], [0, 1, 1], 4)
    assert C.shape == (4, 4)
    np.testing.assert_allclose(C[0], [0.5, 0.5, 0, 0])
    np.testing.assert_allclose(C[1], [0, 1, 0, 0])
    np.testing.assert_allclose(C[2:], 0.0)
    # normalize="pred": columns sum to one where a class was predicted
    P = confusion(Y_TRUE, Y_PRED, 3, normalize="pred")
    np.testing.assert_allclose(P.sum(0), 1.0)
    np.testing.assert_allclose(P[:, 1], [1 / 2, 1 / 2, 0])
