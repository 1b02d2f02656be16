"""The lessons' outcome sentences (``sertools.reports.outcome``) read hand-made tables right: a clear gain, a
null, no headroom, a kept share under 5 %. The tables are made the way ``sertools compare`` makes them
(``results.summarize`` over hand-made run records), so the test covers the columns the sentences read."""
import numpy as np
import pytest

from sertools.results import CEILING, summarize
from sertools.reports import headroom_sentence, outcome

BASE = [40.0, 44.0, 38.0, 46.0, 42.0]


def _rec(method, seed, ua, kept=None, acc=None, val=50.0):
    from sertools.train import RunRecord
    m = {"ua": ua, "wa": ua, "f1": ua, "macro_f1": ua, "ua_last": ua}
    log = {"val_wa": val} | ({} if kept is None else {"mask_rate": kept / 100}) | \
        ({} if acc is None else {"pl_acc": acc / 100})
    return RunRecord(method, {"seed": seed}, history=[log, log], metrics=m, seconds=1.0)


def _table(gain, roof_gain, kept=60.0, acc=70.0):
    """supervised at BASE, "method" at BASE + gain[seed], the ceiling at BASE + roof_gain[seed]."""
    done = {"supervised": [_rec("supervised", s, u) for s, u in enumerate(BASE)],
            "method": [_rec("method", s, u + g, kept, acc) for s, (u, g) in enumerate(zip(BASE, gain))]}
    roof = [_rec("supervised", s, u + g) for s, (u, g) in enumerate(zip(BASE, roof_gain))]
    return summarize(done, ceiling=roof)


HEADROOM = [10.0, 10.5, 9.5, 10.2, 9.8]      # the ceiling 10 points above supervised on every seed


def test_a_clear_gain_is_better_with_its_share_of_the_gap():
    text = outcome(_table([5.0, 5.2, 4.8, 5.1, 4.9], HEADROOM), "method")
    assert "**method is better than supervised**: +5.0 UA points" in text
    assert "over 5 seeds" in text and "Holm-corrected p = 0.000" in text
    assert "Of the 10.0-point gap between supervised and the all-label ceiling it closed 50 %." in text
    assert "60 % of the unlabeled clips entered its loss" in text
    assert "right 70 % of the time, against 50 % accuracy" in text and "domain shift" not in text
    assert "no headroom" not in text


def test_a_null_is_within_noise_and_its_share_is_called_noise():
    text = outcome(_table([3.0, -2.5, 2.0, -1.5, 0.5], HEADROOM), "method")
    assert "**method is within noise of supervised**: +0.3 UA points" in text
    assert "(a share of a gain within noise is noise too)" in text
    assert "better than" not in text and "no headroom" not in text


def test_no_headroom_is_named_as_the_cause():
    df = _table([0.5, -0.5, 0.2, 0.1, -0.3], [3.0, -2.5, 2.0, -1.5, 0.5])
    text = outcome(df, "method")
    assert "within noise of supervised" in text
    assert "**No headroom** (above): the measured cause of a null result." in text
    assert "closed" not in text  # no share of a gap that is not there
    assert "no headroom" in headroom_sentence(df)
    assert "there is headroom" in headroom_sentence(_table([0.0] * 5, HEADROOM))   # negative control
    better = outcome(_table([5.0, 5.2, 4.8, 5.1, 4.9], [3.0, -2.5, 2.0, -1.5, 0.5]), "method")
    assert "better than" in better and "to be read with care" in better and "cause of a null" not in better
    worse = outcome(_table([-5.0, -5.2, -4.8, -5.1, -4.9], [3.0, -2.5, 2.0, -1.5, 0.5]), "method")
    assert "worse than" in worse and "no gain to be had either" in worse and "cause of a null" not in worse


def test_a_kept_share_under_5_percent_says_the_method_was_the_baseline():
    df = _table([5.0, 5.2, 4.8, 5.1, 4.9], HEADROOM, kept=0.9, acc=80.0)
    text = outcome(df, "method")
    assert "better than supervised" in text
    assert "Only 0.9 % of the unlabeled clips entered its loss" in text
    assert "does not come from the unlabeled clips, whatever the verdict says." in text
    assert "Only" not in outcome(_table([5.0, 5.2, 4.8, 5.1, 4.9], HEADROOM, kept=6.0), "method")  # control


def test_targets_worse_than_validation_point_to_the_domain_shift_and_unknown_methods_are_named():
    assert "domain shift" in outcome(_table([0.0] * 5, HEADROOM, acc=30.0), "method")
    with pytest.raises(KeyError, match="'fixmatch' is not in the table"):
        outcome(_table([0.0] * 5, HEADROOM), "fixmatch")
    with pytest.raises(ValueError, match="not against 'method'"):    # the paired tests are against supervised
        outcome(_table([0.0] * 5, HEADROOM), "supervised", baseline="method")


def test_one_seed_verdict_names_two_runs_of_one_method():
    from sertools.reports import one_seed_verdict
    a, b = _rec("supervised", 0, 50.0), _rec("supervised", 0, 47.0)
    text = one_seed_verdict(a, b, names=("with SpecAugment", "without"))
    assert text.startswith("**with SpecAugment scores above without on this seed**: UA 50.0 vs 47.0 %")
    assert "--methods supervised,supervised" not in text


def test_the_table_carries_the_kept_share_and_target_accuracy():
    df = _table([0.0] * 5, HEADROOM, kept=12.0, acc=64.0).set_index("method")
    assert df.loc["method", "mask_rate"] == pytest.approx(12.0) and df.loc["method", "pl_acc"] == pytest.approx(64.0)
    assert df.loc["method", "val_acc"] == pytest.approx(50.0)
    assert np.isnan(df.loc["supervised", "mask_rate"]) and np.isnan(df.loc[CEILING, "pl_acc"])
