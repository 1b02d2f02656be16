"""The voice synthesizer (sertools.synth.voice), checked by measuring.

The emotion cues are not read back from the parameter table: they are
measured on the synthesized sound with the handcrafted features of
``sertools.prosody``, as a phonetician would measure a recording. The
directions are those of docs/emotion-cues.md (Juslin & Laukka 2003, Table 7).
"""
from __future__ import annotations

import numpy as np
import pytest

from sertools.prosody import estimate_f0, prosodic_features
from sertools import rooms
from sertools.synth import voice

SR = 16000
EMOTIONS = ("angry", "happy", "neutral", "sad")
N_CLIPS, SECONDS = 10, 2.0  # per emotion; enough for every ordering to hold on 40 of 40 random speakers


@pytest.fixture(scope="module")
def speaker():
    spk = voice.random_speaker(np.random.default_rng(7), "test")
    spk.expressivity = 1.0  # the full cue sizes of the table
    return spk


@pytest.fixture(scope="module")
def measured(speaker):
    """Mean of each prosodic feature over N_CLIPS clips per emotion, same speaker, intensity 1."""
    out = {}
    for i, emotion in enumerate(EMOTIONS):
        waves = [voice.synthesize(emotion, 1.0, speaker, SECONDS, np.random.default_rng([i, k]))[0]
                 for k in range(N_CLIPS)]
        feats = [prosodic_features(w, SR) for w in waves]
        out[emotion] = {name: float(np.mean([f[name] for f in feats])) for name in feats[0]}
    return out


def _cue(measured, name):
    return {e: round(measured[e][name], 2) for e in EMOTIONS}


def test_pitch_level_angry_and_happy_above_neutral_above_sad(measured):
    f0 = _cue(measured, "f0_mean_hz")
    assert min(f0["angry"], f0["happy"]) > f0["neutral"] > f0["sad"], f0


def test_loudness_angry_above_happy_above_neutral_above_sad(measured):
    loud = _cue(measured, "loudness_mean")  # frame RMS in dB, before any channel
    assert loud["angry"] > loud["happy"] > loud["neutral"] > loud["sad"], loud


def test_syllable_rate_angry_and_happy_above_neutral_above_sad(measured):
    rate = _cue(measured, "syllable_rate")
    assert min(rate["angry"], rate["happy"]) > rate["neutral"] > rate["sad"], rate


def test_spectral_tilt_flattest_for_angry_steepest_for_sad(measured):
    slope = _cue(measured, "spectral_slope")  # dB/octave; source tilt -6 angry ... -15 sad
    assert slope["angry"] > slope["neutral"] > slope["sad"], slope


def test_estimated_pitch_follows_the_speaker(speaker):
    wave, _ = voice.synthesize("neutral", 0.0, speaker, SECONDS, np.random.default_rng(0))
    f0 = estimate_f0(wave, SR)
    assert (f0 > 0).mean() > 0.5
    # declination and random syllable targets spread the contour around the base pitch
    assert abs(np.median(f0[f0 > 0]) / speaker.f0 - 1) < 0.15


def test_same_seed_same_sound(speaker):
    a = voice.synthesize("happy", 0.8, speaker, 1.3, np.random.default_rng(42))
    b = voice.synthesize("happy", 0.8, speaker, 1.3, np.random.default_rng(42))
    c = voice.synthesize("happy", 0.8, speaker, 1.3, np.random.default_rng(43))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_shape_dtype_and_range(speaker, emotion):
    wave, env = voice.synthesize(emotion, 1.0, speaker, 1.5, np.random.default_rng(1), sr=SR)
    assert wave.dtype == np.float32 and wave.shape == (int(1.5 * SR),)
    assert env.shape == wave.shape and env.min() >= 0 and env.max() <= 1
    assert np.isfinite(wave).all() and 0.05 < np.abs(wave).max() < 1.0


def test_unknown_emotion_is_refused_with_the_choices(speaker):
    with pytest.raises(ValueError, match=r"emotion='bored'.*neutral, happy, sad, angry"):
        voice.synthesize("bored", 0.5, speaker, 1.0, np.random.default_rng(0))


@pytest.mark.parametrize("intensity", [-0.1, 1.5])
def test_intensity_out_of_range_is_refused_with_the_range(speaker, intensity):
    with pytest.raises(ValueError, match=r"intensity=.*\[0, 1\]"):
        voice.synthesize("happy", intensity, speaker, 1.0, np.random.default_rng(0))


def _snr_db(clean, noisy, remove_mean: bool) -> float:
    noise = noisy.astype(np.float64) - clean
    if remove_mean:
        noise -= noise.mean()
    return float(10 * np.log10(np.mean(clean.astype(np.float64) ** 2) / np.mean(noise ** 2)))


@pytest.mark.parametrize("snr_db,colour", [(0.0, 0.0), (10.0, 1.0), (20.0, 2.0)])
def test_channel_noise_at_the_requested_snr(speaker, snr_db, colour):
    clean, _ = voice.synthesize("neutral", 0.5, speaker, 1.5, np.random.default_rng(3))
    noisy = rooms.apply_channel(clean, rooms.Channel(snr_db=snr_db, colour=colour), np.random.default_rng(4))
    assert noisy.dtype == np.float32 and noisy.shape == clean.shape
    assert abs(_snr_db(clean, noisy, remove_mean=True) - snr_db) < 0.5


def test_brown_noise_snr_counts_its_drift(speaker):
    """Brown noise drifts slowly; its mean must be removed before scaling, or the SNR comes out low."""
    clean, _ = voice.synthesize("neutral", 0.5, speaker, 1.5, np.random.default_rng(3))
    worst = min(_snr_db(clean, rooms.apply_channel(clean, rooms.Channel(snr_db=10.0, colour=2.0),
                                                   np.random.default_rng(s)), remove_mean=False)
                for s in range(20))
    assert worst > 9.0, worst


def test_channel_gain_scales_the_level(speaker):
    clean, _ = voice.synthesize("sad", 1.0, speaker, 1.5, np.random.default_rng(5))
    quiet = rooms.apply_channel(clean, rooms.Channel(snr_db=40, gain_db=-12.0), np.random.default_rng(6))
    ratio_db = 20 * np.log10(np.std(quiet) / np.std(clean))
    assert abs(ratio_db + 12.0) < 0.5, ratio_db


def test_cue_by_strength_sets_what_was_asked_beside_what_egemaps_measures():
    """bench.cue_by_strength: a wide happy range is measured wider than the speakers' neutral one and
    asked 2x; the control, neutral against neutral, is asked 1x and measured about 1x."""
    pytest.importorskip("opensmile")
    from sertools.bench import cue_by_strength
    small = dict(strengths=(1.0,), n_speakers=4, n_clips=4, seconds=2.0)
    happy, neutral = cue_by_strength("happy", **small), cue_by_strength("neutral", **small)
    assert happy.loc[1.0, "asked"] == 2.0 and neutral.loc[1.0, "asked"] == 1.0
    assert happy.loc[1.0, "measured"] > 1.2
    assert abs(neutral.loc[1.0, "measured"] - 1.0) < 0.2


def test_whole_range_makes_the_measured_f0_range_follow_the_asked_one():
    """whole_range=True (the natural style): sad at full strength is asked for half of neutral's F0 range and
    eGeMAPS measures about that. The control, whole_range=False (the acted style), is measured far wider than
    asked, because the sad contour's fixed 3-semitone fall widens the range again."""
    pytest.importorskip("opensmile")
    from sertools.bench import cue_by_strength
    small = dict(strengths=(1.0,), n_speakers=4, n_clips=4, seconds=2.0)
    whole = cue_by_strength("sad", whole_range=True, **small).loc[1.0]
    targets = cue_by_strength("sad", whole_range=False, **small).loc[1.0]
    assert whole.asked == targets.asked == 0.5
    assert abs(whole.measured - whole.asked) < 0.15, whole
    assert targets.measured - targets.asked > 0.25, targets


def test_shape_match_gives_only_that_share_of_clips_the_emotions_contour(monkeypatch):
    """shape_match=0.5 (the natural style's default): about half the strong clips, plus a quarter of the rest,
    have their emotion's contour shape and the others take one of the four at random. The control,
    shape_match=1 (the acted style), gives every strong clip its emotion's shape; weak voices keep the
    declination either way."""
    used = []
    real = voice._f0_contour
    monkeypatch.setattr(voice, "_f0_contour", lambda n, sr, on, base, cue, shape, rng, **kw:
                        used.append(shape) or real(n, sr, on, base, cue, shape, rng, **kw))
    speaker = voice.random_speaker(np.random.default_rng(0), "A00")
    speaker.expressivity = 1.0

    def shapes(match, intensity=1.0, n=200):
        used.clear()
        for i in range(n):
            voice.synthesize("happy", intensity, speaker, 0.3, np.random.default_rng(i), shape_match=match)
        return np.array(used)
    assert set(shapes(1.0)) == {"rising"}
    mixed = shapes(0.5)
    assert 0.52 < np.mean(mixed == "rising") < 0.73, np.mean(mixed == "rising")
    assert set(mixed) == set(voice.CONTOURS.values())
    assert set(shapes(0.5, intensity=0.1, n=20)) == {"declination"}
