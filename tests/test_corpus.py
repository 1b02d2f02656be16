"""The built-in corpus: splits, agreement, determinism, bad parameters, the corpus command."""
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sertools.config import ConfigError, get_config
from sertools.synth import corpus as C
from sertools.views import check_disjoint

SMALL = dict(n_speakers_a=6, n_speakers_b=6, n_train=24, n_unlabeled=24, n_val=8, n_test=8,
             n_frames=4, min_seconds=0.5, max_seconds=0.7)


@pytest.fixture(scope="module")
def small():
    return C.generate(get_config("quick", **SMALL)[0], n_jobs=1, progress=False)


def test_splits_sizes_shapes_and_speakers(small):
    t = small.table
    assert t.split.value_counts().to_dict() == {"train": 24, "unlabeled": 24, "val": 8, "test": 8}
    check_disjoint(small)  # raises if a val/test speaker is also a training speaker
    assert set(t.domain[t.split == "unlabeled"]) == {"B"} and set(t.domain[t.split != "unlabeled"]) == {"A"}
    for w, f in zip(small.waves, small.frames):
        assert w.dtype == np.float32 and 0.5 * 16000 <= len(w) <= 0.7 * 16000 and np.abs(w).max() <= 1.0
        assert f.shape == (4, 64, 64, 3) and f.dtype == np.uint8
    assert small.classes == ("neutral", "happy", "sad", "angry")
    assert (t.label == [small.classes.index(e) for e in t.emotion]).all()


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
    assert len(labels) == 64
    assert {"clip_id", "split", "speaker", "emotion", "face_emotion", "intensity", "domain"} <= set(labels.columns)
    wave, sr = sf.read(out / "audio" / f"{labels.clip_id[0]}.wav")
    assert sr == 16000 and wave.ndim == 1 and len(wave) > 0.4 * sr
    import cv2
    cap = cv2.VideoCapture(str(out / "video" / f"{labels.clip_id[0]}.mp4"))
    ok, frame = cap.read()
    assert ok and frame.shape == (64, 64, 3)
