"""The pretrained FER2013 face teacher: the torch port, the class mapping, the
errors, and real faces.

Tests that need the weights skip, with the command that fetches them, when
``data/cache/weights/emotion_model.hdf5`` is absent; ``make setup`` and
``.ci/run`` fetch it, so CI runs them.
"""
from pathlib import Path

import numpy as np
import pytest
import torch

from sertools import fer2013
from sertools.config import EMOTIONS, SENTIMENTS, get_config

FIXTURE = Path(__file__).parent / "fixtures" / "fer2013_reference.npz"
have_weights = fer2013.weights_path().is_file()
needs_weights = pytest.mark.skipif(not have_weights, reason=f"FER2013 weights absent: run `{fer2013.FETCH_COMMAND}`")


@needs_weights
def test_port_equals_keras_on_fixed_inputs():
    """The reference probabilities were computed once with Keras 3.15 on the JAX
    backend (``keras.models.load_model(emotion_model.hdf5, compile=False)``,
    inputs ``faces / 255 * 2 - 1`` in float32) by ``tests/fixtures/make_fer2013_reference.py``
    in a scratch environment; the faces are stored next to them."""
    ref = np.load(FIXTURE)
    model = fer2013.load_model()
    with torch.no_grad():
        probs = torch.softmax(model(fer2013.to_input(ref["faces"])), -1).numpy()
    assert probs.shape == ref["probs"].shape == (len(ref["faces"]), 7)
    np.testing.assert_allclose(probs, ref["probs"], atol=1e-4)


@needs_weights
def test_astronaut_is_found_and_labeled_happy():
    skimage_data = pytest.importorskip("skimage.data")
    from sertools.video import face_crops
    crops, found = face_crops(skimage_data.astronaut()[None])
    assert found.tolist() == [True]
    probs = fer2013.FER2013Teacher(EMOTIONS).fer_probs(crops)[0]
    assert fer2013.FER_CLASSES[int(probs.argmax())] == "happy"


def test_blank_image_reports_no_face(tmp_path):
    import cv2
    from sertools.teacher import describe_file
    path = tmp_path / "blank.png"
    cv2.imwrite(str(path), np.full((240, 320, 3), 200, np.uint8))
    ccfg, tcfg = get_config("quick")
    text = describe_file(path, ccfg, tcfg)
    assert "face found in 0" in text and "no face found" in text


@pytest.mark.parametrize("classes", [EMOTIONS, SENTIMENTS, ("calm", "fearful", "surprised", "disgust")])
@pytest.mark.parametrize("mapping", fer2013.MAPPINGS)
def test_class_mapping_keeps_probabilities_summing_to_one(classes, mapping):
    p = torch.softmax(torch.randn(50, 7), -1)
    q = fer2013.map_probs(p, fer2013.class_map(classes, mapping))
    assert q.shape == (50, len(classes))
    torch.testing.assert_close(q.sum(-1), torch.ones(50))
    assert (q >= 0).all()


def test_class_mapping_by_hand():
    drop, fold = fer2013.class_map(EMOTIONS, "drop"), fer2013.class_map(EMOTIONS, "fold")
    p = torch.tensor([[0.1, 0.1, 0.1, 0.2, 0.1, 0.2, 0.2]])  # angry disgust fear happy sad surprise neutral
    torch.testing.assert_close(fer2013.map_probs(p, drop), torch.tensor([[0.2, 0.2, 0.1, 0.1]]) / 0.6)
    # fold: disgust -> angry, fear -> sad, surprise -> neutral
    torch.testing.assert_close(fer2013.map_probs(p, fold), torch.tensor([[0.4, 0.2, 0.2, 0.2]]))
    senti = fer2013.map_probs(p, fer2013.class_map(SENTIMENTS))
    torch.testing.assert_close(senti, torch.tensor([[0.4, 0.2, 0.2]]) / 0.8)
    with pytest.raises(ValueError, match="'bored' has no counterpart"):
        fer2013.class_map(("bored", "happy"))


def test_missing_weights_say_how_to_fetch(tmp_path):
    with pytest.raises(fer2013.WeightsError, match="python -m sertools.fer2013"):
        fer2013.load_model(tmp_path / "emotion_model.hdf5")


def test_corrupted_weights_say_how_to_fetch(tmp_path):
    bad = tmp_path / "emotion_model.hdf5"
    bad.write_bytes(b"not an HDF5 file")
    with pytest.raises(fer2013.WeightsError, match="SHA-256.*python -m sertools.fer2013"):
        fer2013.load_model(bad)


def test_keras_same_padding_is_asymmetric_like_tensorflow():
    x = torch.zeros(1, 1, 60, 60)
    assert fer2013._same_pad(x, 3, 2).shape[-2:] == (61, 61)   # one pixel, at the end
    assert fer2013._same_pad(torch.zeros(1, 1, 15, 15), 3, 2).shape[-2:] == (17, 17)
    y = fer2013._same_pad(torch.ones(1, 1, 4, 4), 3, 2, value=-1.0)
    assert y[0, 0, 0, 0] == 1 and y[0, 0, -1, -1] == -1


@needs_weights
def test_fer2013_teacher_labels_a_real_corpus_clip_wise(tmp_path):
    """On a corpus on disk, ``face_teacher=auto`` means FER2013: every clip with
    faces gets a distribution over the corpus's classes, rows summing to one."""
    from sertools.clips import Clips
    from sertools.teacher import clip_distributions
    import pandas as pd
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (3, 64, 64, 3), dtype=np.uint8), None, rng.integers(0, 255, (2, 64, 64, 3), dtype=np.uint8)]
    table = pd.DataFrame({"clip_id": ["a", "b", "c"], "split": ["unlabeled"] * 3, "speaker": ["s"] * 3, "label": [-1] * 3})
    clips = Clips(waves=[np.zeros(800, np.float32)] * 3, table=table, classes=SENTIMENTS, frames=frames, name="folder")
    ccfg, tcfg = get_config("quick")
    dist = clip_distributions(clips, ccfg, tcfg, progress=False)
    assert dist.shape == (3, 3) and np.isnan(dist[1]).all()
    np.testing.assert_allclose(dist[[0, 2]].sum(1), 1.0, atol=1e-5)


@needs_weights
def test_face_command_prints_fer_classes_for_a_photo(tmp_path, capsys):
    skimage_data = pytest.importorskip("skimage.data")
    import cv2
    from sertools.cli import main
    path = tmp_path / "astronaut.png"
    cv2.imwrite(str(path), skimage_data.astronaut()[:, :, ::-1])
    assert main(["face", str(path), "--preset", "quick"]) == 0
    out = capsys.readouterr().out
    assert "teacher: fer2013" in out and "face found in 1" in out
    import re
    frame = next(line for line in out.splitlines() if line.startswith("frame"))
    probs = {name: float(p) for name, p in re.findall(r"([a-z]+)\s+([\d.]+)%", frame)}
    assert set(probs) == set(fer2013.FER_CLASSES) and max(probs, key=probs.get) == "happy"
