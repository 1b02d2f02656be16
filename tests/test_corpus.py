"""The built-in corpus: splits, agreement, determinism, bad parameters, the corpus command."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sertools.config import ConfigError, get_config
from sertools.synth import corpus as C
from sertools.views import check_disjoint

SMALL = dict(n_speakers_a=6, n_speakers_b=6, n_train=24, n_unlabeled=24, n_val=8, n_test=8,
             n_frames=4, min_seconds=0.5, max_seconds=0.7, n_speakers_b_test=2, n_test_b=8)
REFERENCE = Path(__file__).parent / "fixtures" / "acted_reference.npz"


@pytest.fixture(scope="module")
def small():
    return C.generate(get_config("quick", **SMALL)[0], n_jobs=1, progress=False)


def test_splits_sizes_shapes_and_speakers(small):
    t = small.table
    counts = t.split.value_counts().to_dict()
    # clips without a rater majority leave their split for "excluded"; together they are the planned sizes
    planned = t.groupby(t.split.where(t.split != "excluded", "planned")).size().to_dict()
    assert counts["unlabeled"] == 24 and sum(planned.values()) == 24 + 24 + 8 + 8 + 8
    check_disjoint(small)  # raises if a val/test/test_b speaker is also in an earlier split
    assert set(t.domain[t.split.isin(["unlabeled", "test_b"])]) == {"B"}
    assert set(t.domain[t.split.isin(["train", "val", "test"])]) == {"A"}
    for w, f in zip(small.waves, small.frames):
        assert w.dtype == np.float32 and 0.5 * 16000 <= len(w) <= 0.7 * 16000 and np.abs(w).max() <= 1.0
        assert f.shape == (4, 64, 64, 3) and f.dtype == np.uint8
    assert small.classes == ("neutral", "happy", "sad", "angry")
    kept = t[t.split != "excluded"]
    assert (kept.label == [small.classes.index(e) for e in kept.label_emotion]).all()
    assert (t.label[t.split == "excluded"] == -1).all()


def test_the_label_is_the_raters_majority_and_agreement_is_the_share_who_chose_it():
    assert C.majority(["happy", "happy", "sad"]) == ("happy", pytest.approx(2 / 3))
    assert C.majority(["sad", "sad", "sad"]) == ("sad", 1.0)
    assert C.majority(["happy", "sad", "angry"]) == (None, pytest.approx(1 / 3))   # no majority: kept out
    assert C.majority(["other", "other", "sad"]) == (None, pytest.approx(2 / 3))   # a majority outside the classes
    assert C.majority(["happy", "sad", "happy", "sad"]) == (None, 0.5)             # a tie is no majority
    # in a made table, the columns follow the rule clip by clip
    cfg = get_config("quick", **{**SMALL, "n_train": 200})[0]
    t = C._plan(cfg)
    t = C.rate(cfg, t, C._speakers(cfg, t))
    for r in t.itertuples():
        votes = r.rater_votes.split("|")
        label, _ = C.majority(votes)
        assert len(votes) == cfg.n_raters and r.rater_label == (label or "")
        assert r.rater_agreement == pytest.approx(np.mean([v == r.label_emotion for v in votes]))
        assert (r.split == "excluded") == (label is None and r.split != "unlabeled")
        assert r.label_emotion == (label or r.emotion)
    assert (t.split == "excluded").any() and (t.label_emotion != t.emotion).any()  # raters do disagree


def test_raters_hear_strong_emotions_and_mistake_weak_ones_for_neutral():
    rng = np.random.default_rng(0)
    strong = [v for _ in range(2000) for v in C.rater_votes("angry", 1.0, 1, 0.45, rng)]
    weak = [v for _ in range(2000) for v in C.rater_votes("angry", 0.05, 1, 0.45, rng)]
    assert np.mean(np.array(strong) == "angry") > 0.85
    assert np.mean(np.array(weak) == "angry") < 0.4 and np.mean(np.array(weak) == "neutral") > 0.5
    # misses of a strong clip go to the arousal/valence neighbours, rarely to sad
    missed = np.array([v for v in strong if v != "angry"])
    assert np.isin(missed, ["neutral", "happy", "other"]).mean() > 0.75


def test_rater_summary_reads_agreement_off_the_plan():
    """Skilled raters agree more (kappa, unanimity, majority) than unskilled ones, on the same plan; the acted
    style keeps every clip and labels it with the intended emotion. Each side is the other's control."""
    over = dict(n_speakers_a=20, n_train=400, n_val=100, n_test=100, n_test_b=100)
    sharp = C.rater_summary(get_config("quick", **over, rater_skill=0.05)[0])
    blunt = C.rater_summary(get_config("quick", **over, rater_skill=2.0)[0])
    assert sharp["kappa"] > blunt["kappa"] + 0.1 and sharp["unanimous"] > blunt["unanimous"]
    assert sharp["majority"] > blunt["majority"] and sharp["clips"] == blunt["clips"] == 700
    acted = C.rater_summary(get_config("quick", **over, style="acted")[0])
    assert acted["excluded"] == 0 and acted["intended"] == 100.0 and acted["mixed"] == 0.0


def test_test_b_speakers_are_disjoint_from_every_other_split(small):
    t = small.table
    b = set(t.speaker[t.split == "test_b"])
    assert b and not b & set(t.speaker[t.split.isin(["train", "unlabeled", "val", "test"])])
    bad = small.subset(np.arange(len(t)))
    bad.table.loc[bad.table.split == "test_b", "speaker"] = t.speaker[t.split == "unlabeled"].iloc[0]
    with pytest.raises(ValueError, match="test_b"):
        check_disjoint(bad)


@pytest.mark.parametrize("prior_b,neutral", [("auto", C.WILD_PROBS["neutral"]), ("same", C.CLASS_PROBS["neutral"])])
def test_the_unlabeled_pool_is_neutral_dominant_like_in_the_wild_video(prior_b, neutral):
    t = C._plan(get_config("default", prior_b=prior_b)[0])
    pool = t[t.split == "unlabeled"].emotion.value_counts(normalize=True)
    assert abs(pool["neutral"] - neutral) < 0.03
    assert abs(t[t.split == "train"].emotion.value_counts(normalize=True)["neutral"] - C.CLASS_PROBS["neutral"]) < 0.05


def test_natural_intensity_is_mostly_mild_and_acted_is_strong():
    nat = C._plan(get_config("default")[0])
    act = C._plan(get_config("default", style="acted")[0])
    assert nat.intensity.median() < 0.45 and (nat.intensity < 0.5).mean() > 0.6
    assert act.intensity.min() >= 0.5
    assert 0.2 < (nat.blend != "").mean() < 0.4 and "blend" not in act


def _full_strength_wave(emotion, **over):
    """One clip of ``emotion`` at full strength (expressivity 1, intensity 1) by a fixed speaker, same streams."""
    from sertools.synth import voice
    speaker = voice.random_speaker(np.random.default_rng(0), "A00")
    speaker.expressivity = 1.0
    cfg = get_config("quick", **over)[0]
    return C.make_clip(cfg, speaker, None, "A", emotion, 1.0, np.random.default_rng(1), video=False)[0]


def test_pitch_range_auto_sets_the_whole_contour_in_the_natural_style_only():
    """pitch_range "auto" is "contour" for the natural style and "targets" for the acted one: a strong sad
    clip differs between the two settings, and "auto" gives the one its style names."""
    def wave(style, pitch_range):
        return _full_strength_wave("sad", style=style, pitch_range=pitch_range)
    assert not np.array_equal(wave("natural", "contour"), wave("natural", "targets"))
    assert np.array_equal(wave("natural", "auto"), wave("natural", "contour"))
    assert np.array_equal(wave("acted", "auto"), wave("acted", "targets"))


def test_contour_match_is_read_in_the_natural_style_only():
    """contour_match changes a natural clip (its contour may take another shape) and leaves an acted one as it
    was: every acted clip keeps its emotion's contour shape."""
    def wave(style, match):
        return _full_strength_wave("happy", style=style, contour_match=match)
    assert not np.array_equal(wave("natural", 0.0), wave("natural", 1.0))
    assert np.array_equal(wave("acted", 0.0), wave("acted", 1.0))


def test_style_acted_gives_the_reference_corpus_exactly():
    """style="acted" makes the clips and labels of the corpus before the natural style existed (the fingerprint
    tests/fixtures/make_acted_reference.py wrote), so every figure measured on it stays reproducible; test_b's
    clips come after them from a stream of their own."""
    z = np.load(REFERENCE)
    cfg = get_config("quick", **SMALL, style="acted")[0]
    c = C.generate(cfg, n_jobs=1, progress=False)
    sub = c.subset(np.flatnonzero(c.table.split != "test_b"))
    assert [str(x) for x in sub.table.clip_id] == list(z["col_clip_id"])
    for col in ("split", "speaker", "emotion", "face_emotion"):
        assert list(sub.table[col].astype(str)) == list(z[f"col_{col}"]), col
    for col in ("label", "face_label"):
        assert np.array_equal(sub.table[col].to_numpy(), z[f"col_{col}"]), col
    assert np.array_equal(sub.table.intensity.to_numpy(), z["col_intensity"])
    assert np.array_equal([len(w) for w in sub.waves], z["length"])
    np.testing.assert_allclose([w.astype(np.float64).sum() for w in sub.waves], z["sum"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose([np.square(w.astype(np.float64)).sum() for w in sub.waves], z["energy"], rtol=1e-6)
    np.testing.assert_allclose(np.stack([w[:16] for w in sub.waves]), z["head"], rtol=1e-5, atol=1e-7)
    assert np.array_equal([int(f.astype(np.int64).sum()) for f in sub.frames], z["pixels"])
    # the natural style is another world: the control that the fingerprint can tell them apart
    n = C.generate(get_config("quick", **SMALL)[0], n_jobs=1, progress=False)
    assert not np.array_equal([len(w) for w in n.waves[:64]], z["length"]) or \
        not np.allclose([w.astype(np.float64).sum() for w in n.waves[:64]], z["sum"])


def test_generation_is_deterministic_and_independent_of_workers():
    cfg = get_config("quick", **{**SMALL, "n_train": 12, "n_unlabeled": 8})[0]
    a = C.generate(cfg, n_jobs=1, progress=False)
    b = C.generate(cfg, n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert all(np.array_equal(x, y) for x, y in zip(a.waves, b.waves))
    assert all(np.array_equal(x, y) for x, y in zip(a.frames, b.frames))
    c = C.generate(get_config("quick", **{**SMALL, "n_train": 12, "n_unlabeled": 8, "corpus_seed": 1})[0], n_jobs=1,
                   progress=False)
    assert not np.array_equal(a.waves[0][:1000], c.waves[0][:1000])


@pytest.mark.parametrize("agreement", [0.3, 0.7, 1.0])
def test_face_agrees_with_voice_at_the_set_rate(agreement):
    rng = np.random.default_rng(0)
    voices = rng.choice(list(C.CLASS_PROBS), 4000)
    faces = np.array([C.face_emotion(v, agreement, rng) for v in voices])
    assert abs(np.mean(faces == voices) - agreement) < 0.03
    # disagreements fall mostly on neutral and on the class of the same arousal
    angry = (voices == "angry") & (faces != voices)
    if angry.any():
        assert np.isin(faces[angry], ["neutral", "happy"]).mean() > 0.7


def test_sentiment_variant_maps_emotions():
    assert C.label_of("happy", "sentiment3") == 2 and C.label_of("angry", "sentiment3") == 0
    assert C.label_of("sad", "sentiment3") == 0 and C.label_of("neutral", "sentiment3") == 1


@pytest.mark.parametrize("key,value,words", [
    ("n_train", -5, "n_train=-5 is out of range"),
    ("face_voice_agreement", 1.5, "face_voice_agreement=1.5 is out of range; allowed range is [0.0, 1.0]"),
    ("intensity_max", 2.0, "intensity_max=2.0 is out of range"),
    ("classes", "emotion7", "classes='emotion7' is not allowed; choose one of emotion4, sentiment3"),
    ("colour_of_sky", 1, "unknown config key 'colour_of_sky'"),
])
def test_bad_parameters_name_the_key_and_range(key, value, words):
    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        get_config("quick", **{key: value})


def test_unknown_emotion_in_demo_clip():
    with pytest.raises(ValueError, match="emotion='bored' is not known; choose one of neutral, happy, sad, angry"):
        C.demo_clip("bored")


def test_corpus_command_writes_files_that_read_back(tmp_path):
    out = tmp_path / "corpus"
    sets = sum((["--set", f"{k}={v}"] for k, v in SMALL.items()), [])
    p = subprocess.run([sys.executable, "-m", "sertools", "corpus", "--preset", "quick", "--out", str(out),
                        "--quiet", *sets], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    labels = pd.read_csv(out / "labels.csv")
    assert len(labels) == 72
    assert {"clip_id", "split", "speaker", "emotion", "face_emotion", "intensity", "domain", "rater_agreement",
            "intended_emotion", "rater_votes"} <= set(labels.columns)
    wave, sr = sf.read(out / "audio" / f"{labels.clip_id[0]}.wav")
    assert sr == 16000 and wave.ndim == 1 and len(wave) > 0.4 * sr
    import cv2
    cap = cv2.VideoCapture(str(out / "video" / f"{labels.clip_id[0]}.mp4"))
    ok, frame = cap.read()
    assert ok and frame.shape == (64, 64, 3)
