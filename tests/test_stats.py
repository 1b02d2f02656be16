"""Confidence intervals, paired tests and verdicts on hand-made tables."""
import numpy as np
import pandas as pd
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
    assert "Holm" in lines[0] and "over the 3 claims" in text


def test_paper_claims_correct_their_p_values_together():
    """A claim whose raw p is just under 0.05 does not hold once Holm corrects it with the others; alone, it does."""
    from sertools.results import summarize
    from sertools.reports import paper_claims
    base = [50.0 + 3 * s for s in range(5)]
    worse = [b - 2.0 + d for b, d in zip(base, [-1.5, 1.5, -1.2, 1.4, 0.3])]
    done = {"supervised": [_rec("supervised", s, base[s]) for s in range(5)],
            "dcmkt": [_rec("dcmkt", s, worse[s]) for s in range(5)],
            "fixmatch": [_rec("fixmatch", s, base[s] + (-1) ** s) for s in range(5)]}
    from scipy import stats
    raw = stats.ttest_rel(worse, base).pvalue
    assert 0.025 < raw < 0.05                      # "worse" at the raw level
    both = paper_claims(summarize(done)).data.splitlines()
    assert "does **not** hold here" in both[0]      # corrected over 2 claims: within noise
    alone = paper_claims(summarize({k: done[k] for k in ("supervised", "dcmkt")})).data.splitlines()
    assert "holds here" in alone[0]                 # the control: one claim, no correction


# ------------------------------------------------------------ Holm's correction

def test_holm_by_hand():
    """Sorted 0.01, 0.03, 0.04 times 3, 2, 1 = 0.03, 0.06, 0.04; the running maximum
    makes the last 0.06; back in the order given: 0.03, 0.06, 0.06."""
    from sertools.stats import holm
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(holm([0.2, 0.6]), [0.4, 0.6])
    np.testing.assert_allclose(holm([0.3, 0.5, 0.9]), [0.9, 1.0, 1.0])        # capped at 1
    out = holm([0.01, np.nan, 0.04])                                          # no test: not a comparison
    assert np.isnan(out[1]) and out[[0, 2]] == pytest.approx([0.02, 0.04])


def _seeds(base, diffs):
    return [b + d for b, d in zip(base, diffs)]


BASE = [50.0, 55.0, 60.0, 52.0, 58.0]
SMALL_GAIN = [1.32, 0.32, 1.02, -0.08, 1.02]   # paired t-test p = 0.0497, by scipy


def test_a_raw_p_of_0049_among_ten_comparisons_is_no_longer_better():
    from sertools.results import summarize
    assert 0.045 < paired_test(_seeds(BASE, SMALL_GAIN), BASE)["p"] < 0.05
    noise = [[1.0, -1.2, 0.4, -0.3, 0.2], [-1.0, 0.5, 0.4, -0.8, 0.9]]
    done = {"supervised": [_rec("supervised", s, u) for s, u in enumerate(BASE)],
            "fusion_weighted": [_rec("fusion_weighted", s, u) for s, u in enumerate(_seeds(BASE, SMALL_GAIN))]}
    for i, m in enumerate(["pseudo_label", "pi_model", "temporal_ensembling", "mean_teacher", "fixmatch",
                           "dcmkt", "dcmkt_finetune", "fusion_consistent", "svm"]):
        done[m] = [_rec(m, s, u) for s, u in enumerate(_seeds(BASE, noise[i % 2]))]
    df = summarize(done).set_index("method")
    row = df.loc["fusion_weighted"]
    assert row["p_value"] < 0.05 and row["verdict"] != "better"
    assert row["verdict"] == "within noise" and row["p_holm"] == pytest.approx(min(1.0, 10 * row["p_value"]))
    assert np.isnan(df.loc["supervised", "p_holm"])
    assert np.isfinite(df.drop("supervised")["p_holm"]).sum() == 10
    alone = summarize({k: done[k] for k in ("supervised", "fusion_weighted")}).set_index("method")
    assert alone.loc["fusion_weighted", "verdict"] == "better"                # one comparison: Holm changes nothing
    assert alone.loc["fusion_weighted", "p_holm"] == pytest.approx(alone.loc["fusion_weighted", "p_value"])


def test_holm_leaves_out_the_baseline_and_the_ceiling_and_the_markdown_says_so():
    from sertools.results import CEILING, summarize, table_markdown
    done = {"supervised": [_rec("supervised", s, u) for s, u in enumerate(BASE)],
            "fixmatch": [_rec("fixmatch", s, u) for s, u in enumerate(_seeds(BASE, [1.0, -1.2, 0.4, -0.3, 0.2]))],
            "pi_model": [_rec("pi_model", s, u) for s, u in enumerate(_seeds(BASE, SMALL_GAIN))]}
    roof = [_rec("supervised", s, u + 10.0) for s, u in enumerate(BASE)]
    df = summarize(done, ceiling=roof).set_index("method")
    assert np.isnan(df.loc[CEILING, "p_holm"]) and df.loc[CEILING, "verdict"] == "better"
    p = df.loc["pi_model", "p_value"]
    assert p < df.loc["fixmatch", "p_value"] / 2                               # the smaller p of the two
    assert df.loc["pi_model", "p_holm"] == pytest.approx(2 * p)                 # N = 2: fixmatch and pi_model
    assert df.loc["pi_model", "verdict"] == "within noise"
    md = table_markdown(df.reset_index())
    assert "Holm's correction over the table's 2 comparisons" in md
    assert f"| {p:.3f} | {2 * p:.3f} | within noise |" in md


def test_the_sweep_corrects_within_each_agreement_rate():
    import pandas as pd
    from sertools.results import holm_per_table
    rows = [{"agreement": a, "method": m, "ua_diff": 1.0, "p_value": p, "verdict": "better" if p < 0.05 else ""}
            for a, ps in [(0.4, [np.nan, 0.01, 0.04, 0.03]), (1.0, [np.nan, 0.01, 0.2, 0.3])]
            for m, p in zip(["supervised", "fixmatch", "dcmkt_finetune", "fusion_consistent"], ps)]
    df = holm_per_table(pd.DataFrame(rows), "agreement")
    at = df.set_index(["agreement", "method"])
    np.testing.assert_allclose(at.loc[0.4, "p_holm"].iloc[1:], [0.03, 0.06, 0.06])
    np.testing.assert_allclose(at.loc[1.0, "p_holm"].iloc[1:], [0.03, 0.4, 0.4])
    assert list(at.loc[0.4, "verdict"].iloc[1:]) == ["better", "within noise", "within noise"]
    assert np.isnan(at.loc[(0.4, "supervised"), "p_holm"])


# ------------------------------------------------------------ gap closed, honestly

def _gap_table(method_diffs, roof_diffs):
    from sertools.results import summarize
    done = {"supervised": [_rec("supervised", s, u) for s, u in enumerate(BASE)],
            "fixmatch": [_rec("fixmatch", s, u) for s, u in enumerate(_seeds(BASE, method_diffs))]}
    roof = [_rec("supervised", s, u) for s, u in enumerate(_seeds(BASE, roof_diffs))]
    return summarize(done, ceiling=roof).set_index("method").loc["fixmatch"]


def test_no_headroom_is_said_not_left_as_nan():
    r = _gap_table([2.0] * 5, [-1.0, -2.0, 0.5, -1.5, -0.5])                 # the ceiling is below the baseline
    assert np.isnan(r["gap_closed"]) and r["gap_note"] == "no headroom"
    r = _gap_table([2.0] * 5, [3.0, -2.5, 2.0, -1.5, 0.5])                   # above on average, within its noise
    assert np.isnan(r["gap_closed"]) and r["gap_note"] == "no headroom"
    r = _gap_table([2.0] * 5, [4.0, 4.2, 3.8, 4.1, 3.9])                     # real headroom: 4 points
    assert r["gap_closed"] == pytest.approx(0.5) and r["gap_note"] == ""


def test_above_the_ceiling_only_when_a_paired_test_says_so():
    r = _gap_table([6.0, 6.1, 5.9, 6.2, 5.8], [4.0, 4.2, 3.8, 4.1, 3.9])     # 2 points above, every seed
    assert r["gap_closed"] == pytest.approx(1.5) and r["gap_note"] == "above ceiling (significant)"
    r = _gap_table([9.0, 1.0, 6.5, 2.0, 6.5], [4.0, 4.2, 3.8, 4.1, 3.9])     # 1 point above on average, noisy
    assert r["gap_closed"] == 1.0 and r["gap_note"] == "at ceiling (within noise)"


def test_without_a_ceiling_the_gap_says_so():
    from sertools.results import summarize
    done = {"supervised": [_rec("supervised", s, u) for s, u in enumerate(BASE)],
            "fixmatch": [_rec("fixmatch", s, u + 1) for s, u in enumerate(BASE)]}
    r = summarize(done).set_index("method").loc["fixmatch"]
    assert np.isnan(r["gap_closed"]) and r["gap_note"] == "no ceiling"


def test_known_answers_reads_the_lessons_own_table():
    """Lesson 03's sentences come from its summary table and ceiling: a clear gain, a share of the gap, and no
    share where there is no gap."""
    from sertools.reports import known_answers
    summary = pd.DataFrame({"UA mean": [80.0, 85.0], "gain mean": [0.0, 5.0], "worst gain": [0.0, 2.0],
                            "seeds above": ["0/5", "5/5"], "pseudo-label acc": [np.nan, 0.9]},
                           index=pd.Index(["supervised", "fixmatch"], name="method"))
    text = known_answers(summary, ceiling_ua=90.0)
    assert "80.0 % UA" in text and "90.0 %" in text and "gap of 10.0 points" in text
    assert "fixmatch: +5.0 points over supervised on average, 50% of the gap, above it on 5/5 seeds" in text
    assert "right 90% of the time" in text
    assert "no gap to close" in known_answers(summary, ceiling_ua=79.0)


def test_validation_choices_keep_the_current_value_unless_a_gain_beats_its_spread():
    """A candidate whose paired gain over the seeds exceeds the gain's sd replaces the current value; one
    whose mean is higher only within that spread does not (the control: the same means, noisier seeds)."""
    from sertools.bench import better_than_current
    current = np.array([50.0, 52.0, 48.0])
    clear = current + np.array([3.0, 2.5, 3.5])      # +3.0 +- 0.5
    noisy = current + np.array([7.0, -4.0, 6.0])     # +3.0 +- 6.1
    assert better_than_current("norm", {"utterance": current, "pool": clear}) == "pool"
    assert better_than_current("norm", {"utterance": current, "pool": noisy}) == "utterance"
    assert better_than_current("norm", {"utterance": current, "pool": noisy, "x": clear}) == "x"
    assert better_than_current("norm", {"utterance": current, "pool": current - 3}) == "utterance"


def test_the_budget_rule_reads_the_tested_checkpoint_and_keeps_the_largest_budget_ten_points_short():
    """The label budget is decided on the validation UA of the checkpoint the protocol tests: under
    select="last" the last evaluation's, not the run's luckiest one. Control: under "best" the same record
    reads its best evaluation, so a ceiling with one lucky evaluation would look ten points higher."""
    from sertools.bench import label_budget, tested_val_ua
    from sertools.core import RunRecord
    rec = RunRecord(method="supervised", config={}, metrics={"best_val_ua": 70.0},
                    history=[{"step": 50, "val_ua": 70.0}, {"step": 100, "val_ua": 60.0}])
    assert tested_val_ua(rec, "last") == 60.0
    assert tested_val_ua(rec, "best") == 70.0
    assert label_budget({10: 25.0, 20: 12.0, 40: 10.0, 60: 9.9}) == 40
    assert label_budget({10: 9.0, 20: 5.0}) is None
