"""The outside judge (sertools.judge): speaker folds, UA, the confusions it names, a clear error."""
import numpy as np
import pandas as pd
import pytest

from sertools import judge


def _data(shift: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.repeat(["a", "b", "c"], 60)
    groups = np.tile(np.repeat([f"s{i}" for i in range(6)], 10), 3)
    X = rng.normal(0, 1, (len(y), 5))
    X[:, 0] += shift * (y == "b") - shift * (y == "c")
    return X, y, groups


def test_the_judge_separates_clear_classes_and_is_at_chance_without_them():
    X, y, g = _data(4.0)
    assert judge.judge(X, y, g)["ua"] > 90
    res = judge.judge(X, np.random.default_rng(1).permutation(y), g)  # labels carry nothing: chance, 33 %
    assert res["ua"] < 50 and res["confusion"].shape == (3, 3)


def test_folds_keep_each_speaker_on_one_side():
    from sklearn.model_selection import GroupKFold
    X, y, g = _data(1.0)
    for tr, te in GroupKFold(5).split(X, y, g):
        assert not set(g[tr]) & set(g[te])


def test_largest_confusions_symmetrise_and_sort():
    cm = pd.DataFrame([[80, 15, 5], [25, 70, 5], [2, 8, 90]], index=list("abc"), columns=list("abc"), dtype=float)
    top = judge.largest_confusions(cm, k=2)
    assert top[0][:2] == ("a", "b") and top[0][2] == pytest.approx(20.0)
    assert top[1][:2] == ("b", "c") and top[1][2] == pytest.approx(6.5)


def test_a_folder_without_labels_is_a_clear_error(tmp_path, capsys):
    assert judge.main([str(tmp_path)]) == 2
    assert "labels.csv is missing" in capsys.readouterr().err
