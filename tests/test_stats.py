"""Confidence intervals, paired tests and verdicts on hand-made tables."""
import numpy as np
import pytest

from sertools.stats import gap_closed, mean_ci, paired_test


def test_a_difference_with_zero_spread_is_better_or_worse():
    base = [50.0, 55.0, 60.0, 52.0, 58.0]
    assert paired_test(np.add(base, 2.0), base)["verdict"] == "better"
    assert paired_test(np.add(base, -2.0), base)["verdict"] == "worse"
    assert paired_test(np.add(base, 2.0), base)["diff"] == pytest.approx(2.0)


def test_equal_columns_are_within_noise():
    base = [50.0, 55.0, 60.0, 52.0, 58.0]
    t = paired_test(base, base)
    assert t["verdict"] == "within noise" and t["diff"] == 0 and t["p"] == 1.0


def test_pairing_sees_a_small_consistent_gain_that_unpaired_spread_hides():
    """Seeds move both methods together; +1 point on every seed (with a little
    jitter) is real even though each method's own spread is 5 points."""
    base = np.array([45.0, 50.0, 55.0, 60.0, 48.0])
    other = base + np.array([1.1, 0.9, 1.0, 1.2, 0.8])
    assert paired_test(other, base)["verdict"] == "better"
    assert mean_ci(base)[1] > 1.0      # the unpaired interval is wider than the gain


def test_noisy_differences_are_within_noise():
    base = np.array([50.0, 52.0, 54.0, 56.0, 58.0])
    other = base + np.array([3.0, -3.0, 2.0, -2.5, 1.0])
    assert paired_test(other, base)["verdict"] == "within noise"


def test_one_seed_cannot_be_tested():
    assert paired_test([60.0], [50.0])["verdict"] == "n/a"


def test_mean_ci_is_the_t_interval():
    m, half = mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0 and half == pytest.approx(4.303 * 1.0 / np.sqrt(3), rel=1e-3)   # t(0.975, 2) = 4.303


def test_gap_closed():
    assert gap_closed(60.0, 50.0, 70.0) == pytest.approx(0.5)
    assert gap_closed(45.0, 50.0, 70.0) == pytest.approx(-0.25)
    assert np.isnan(gap_closed(60.0, 50.0, 50.0))


def _rec(method, seed, ua, ua_last=None):
    from sertools.train import RunRecord
    m = {"ua": ua, "wa": ua, "f1": ua, "macro_f1": ua, "ua_best": ua, "ua_last": ua if ua_last is None else ua_last}
    return RunRecord(method, {"seed": seed}, metrics=m, seconds=1.0)


def test_summarize_pairs_by_seed_and_reports_gap_and_ceiling():
    from sertools.results import CEILING, COLUMNS, summarize
    done = {"supervised": [_rec("supervised", s, 50.0 + s) for s in range(4)],
            "fixmatch": [_rec("fixmatch", s, 55.0 + s) for s in reversed(range(4))],   # order must not matter
            "pi_model": [_rec("pi_model", s, 50.0 + s) for s in range(4)]}
    roof = [_rec("supervised", s, 60.0 + s) for s in range(4)]
    df = summarize(done, ceiling=roof).set_index("method")
    assert df.loc["fixmatch", "verdict"] == "better" and df.loc["fixmatch", "ua_diff"] == pytest.approx(5.0)
    assert df.loc["pi_model", "verdict"] == "within noise"
    assert df.loc["fixmatch", "gap_closed"] == pytest.approx(0.5)
    assert CEILING in df.index and df.loc[CEILING, "ua"] == pytest.approx(61.5)
    assert df.loc["fixmatch", "ua_per_seed"] == "0:55.00;1:56.00;2:57.00;3:58.00"
    assert set(COLUMNS[1:]) <= set(df.columns)


def test_paper_claims_use_the_paired_test():
    from sertools.results import summarize
    from sertools.reports import paper_claims
    done = {"supervised": [_rec("supervised", s, 50.0 + 3 * s) for s in range(5)],
            "dcmkt": [_rec("dcmkt", s, 40.0 + 3 * s + (s % 2)) for s in range(5)],              # clearly worse
            "fixmatch": [_rec("fixmatch", s, 50.5 + 3 * s + (-1) ** s) for s in range(5)],      # within noise
            "fusion_weighted": [_rec("fusion_weighted", s, 51.0 + 3 * s + [-1, 2, -2, 1, 0][s]) for s in range(5)]}
    text = paper_claims(summarize(done)).data
    lines = text.splitlines()
    assert "holds here" in lines[0] and "worse" in lines[0]
    assert "holds here" in lines[1] and "within noise" in lines[1]
    assert "does **not** hold here" in lines[2]   # the best fusion is not better than fixmatch by the test
