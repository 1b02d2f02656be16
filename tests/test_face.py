"""Tests of the synthetic faces (sertools.synth.face)."""
import cv2
import numpy as np
import pytest

from sertools.synth import face

EMOTIONS4 = ["neutral", "happy", "sad", "angry"]

_CASCADE = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")


def detect_faces(image: np.ndarray, upscale: int = 192) -> np.ndarray:
    """Boxes (x, y, w, h) that OpenCV's frontal Haar cascade finds in an RGB image.

    The cascade's smallest window is 24 x 24 pixels, so a 64-pixel frame is
    upscaled first (as ``detect_face_box`` does for small frames).
    """
    big = cv2.resize(image, (upscale, upscale), interpolation=cv2.INTER_LINEAR)
    gray = cv2.cvtColor(big, cv2.COLOR_RGB2GRAY)
    boxes = _CASCADE.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=3)
    return np.asarray(boxes).reshape(-1, 4)


def _identities(seed: int, n: int):
    rng = np.random.default_rng(seed)
    return [face.random_identity(rng) for _ in range(n)]


def _loudness(n: int = 8) -> np.ndarray:
    return np.abs(np.sin(np.linspace(0.0, 3.0 * np.pi, n)))


# --- the table -------------------------------------------------------------

def test_prototypes_follow_facs_table():
    assert face.AU_PROTOTYPES["neutral"] == {}
    assert set(face.AU_PROTOTYPES["happy"]) == {"AU6", "AU12"}
    assert set(face.AU_PROTOTYPES["sad"]) == {"AU1", "AU4", "AU15"}
    assert set(face.AU_PROTOTYPES["angry"]) == {"AU4", "AU5", "AU7", "AU23"}
    assert set(face.AU_PROTOTYPES["surprise"]) == {"AU1", "AU2", "AU5", "AU26"}
    assert set(face.AU_PROTOTYPES["disgust"]) == {"AU9", "AU15", "AU16"}
    for aus in face.AU_PROTOTYPES.values():
        assert set(aus) <= set(face.ACTION_UNITS)
        assert all(0.0 < v <= 1.0 for v in aus.values())


# --- shapes, dtypes, ranges -------------------------------------------------

def test_draw_face_shape_dtype():
    person = _identities(0, 1)[0]
    img = face.draw_face(person, face.AU_PROTOTYPES["happy"])
    assert img.shape == (64, 64, 3) and img.dtype == np.uint8
    small = face.draw_face(person, {}, size=48, yaw=0.2, roll=-0.1, light=0.6, mouth_open=1.0)
    assert small.shape == (48, 48, 3) and small.dtype == np.uint8
    assert img.std() > 20  # a picture, not a flat colour


def test_talking_video_shape_dtype():
    rng = np.random.default_rng(1)
    person = face.random_identity(rng)
    frames = face.talking_video(person, "sad", 0.7, _loudness(6), rng, size=48)
    assert frames.shape == (6, 48, 48, 3) and frames.dtype == np.uint8


def test_expression_curve_range():
    for seed in range(20):
        curve = face.expression_curve(8, np.random.default_rng(seed))
        assert curve.shape == (8,)
        assert curve.min() >= 0.0 and curve.max() == pytest.approx(1.0)
    assert face.expression_curve(1, np.random.default_rng(0)).tolist() == [1.0]


# --- determinism ------------------------------------------------------------

def test_deterministic_for_a_seed():
    def make(seed):
        rng = np.random.default_rng(seed)
        person = face.random_identity(rng)
        video = face.talking_video(person, "angry", 0.9, _loudness(), rng, occlusion_prob=0.5)
        images, labels, who = face.face_image_set(12, 3, EMOTIONS4, rng)
        return person, video, images, labels, who

    a, b, c = make(7), make(7), make(8)
    assert a[0] == b[0]
    for x, y in zip(a[1:], b[1:]):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[1], c[1])


# --- what the face shows ----------------------------------------------------

def test_emotions_give_different_images():
    person = _identities(2, 1)[0]
    imgs = {e: face.draw_face(person, face.AU_PROTOTYPES[e]).astype(np.float32) for e in face.AU_PROTOTYPES}
    names = list(imgs)
    for i, e1 in enumerate(names):
        for e2 in names[i + 1:]:
            diff = np.abs(imgs[e1] - imgs[e2]).mean()
            assert diff > 0.5, (e1, e2, diff)


def test_intensity_scales_the_expression():
    person = _identities(3, 1)[0]
    neutral = face.draw_face(person, {}).astype(np.float32)
    weak = face.draw_face(person, face.emotion_aus("happy", 0.3)).astype(np.float32)
    strong = face.draw_face(person, face.emotion_aus("happy", 1.0)).astype(np.float32)
    assert np.abs(weak - neutral).mean() < np.abs(strong - neutral).mean()


def test_mouth_open_changes_the_mouth_region():
    person = _identities(4, 1)[0]
    closed = face.draw_face(person, {}, mouth_open=0.0).astype(np.float32)
    opened = face.draw_face(person, {}, mouth_open=1.0).astype(np.float32)
    diff = np.abs(opened - closed).mean(axis=2)
    lower = diff[38:56, 16:48].mean()   # mouth and chin
    upper = diff[5:30].mean()           # hair, brows, eyes
    assert lower > 5.0
    assert upper < 0.05 * lower


def test_loudness_moves_the_mouth_in_video():
    person = _identities(5, 1)[0]
    kw = dict(occlusion_prob=0.0, blur_max=0.0, noise_std=0.0)
    quiet = face.talking_video(person, "neutral", 0.0, np.zeros(4), np.random.default_rng(9), **kw)
    loud = face.talking_video(person, "neutral", 0.0, np.ones(4), np.random.default_rng(9), **kw)
    diff = np.abs(loud.astype(np.float32) - quiet).mean(axis=(0, 3))
    assert diff[38:58].mean() > 5.0 * diff[:30].mean()


def test_occluder_covers_some_frames():
    person = _identities(6, 1)[0]
    kw = dict(blur_max=0.0, noise_std=0.0)
    loud = _loudness(9)
    plain = face.talking_video(person, "happy", 0.8, loud, np.random.default_rng(3), occlusion_prob=0.0, **kw)
    hidden = face.talking_video(person, "happy", 0.8, loud, np.random.default_rng(3), occlusion_prob=1.0, **kw)
    changed = [not np.array_equal(p, h) for p, h in zip(plain, hidden)]
    assert 3 <= sum(changed) <= 9


# --- face detection ---------------------------------------------------------

def test_haar_cascade_finds_drawn_faces():
    people = _identities(10, 8)
    found = [len(detect_faces(face.draw_face(p, face.AU_PROTOTYPES[e]))) > 0
             for p in people for e in EMOTIONS4]
    assert np.mean(found) >= 0.8, np.mean(found)
    for p in people:  # where it finds a face, the box is on the face
        for x, y, w, h in detect_faces(face.draw_face(p, {})):
            assert 60 < x + w / 2 < 132 and 50 < y + h / 2 < 130 and 50 < w < 160


def test_haar_cascade_finds_nothing_in_a_blank_image():
    assert len(detect_faces(np.full((64, 64, 3), 128, dtype=np.uint8))) == 0


# --- the image set ----------------------------------------------------------

def test_face_image_set_balanced():
    images, labels, who = face.face_image_set(40, 5, EMOTIONS4, np.random.default_rng(0))
    assert images.shape == (40, 64, 64, 3) and images.dtype == np.uint8
    assert labels.shape == (40,) and who.shape == (40,)
    assert np.bincount(labels, minlength=4).tolist() == [10, 10, 10, 10]
    assert np.bincount(who, minlength=5).tolist() == [8, 8, 8, 8, 8]
    images, labels, who = face.face_image_set(10, 3, ["happy", "sad", "angry"], np.random.default_rng(1))
    counts = np.bincount(labels, minlength=3)
    assert counts.max() - counts.min() <= 1 and set(who.tolist()) == {0, 1, 2}


# --- bad input --------------------------------------------------------------

def test_unknown_emotion_names_it_and_the_allowed_ones():
    rng = np.random.default_rng(0)
    person = face.random_identity(rng)
    with pytest.raises(ValueError, match=r"grumpy.*neutral.*happy.*sad.*angry"):
        face.talking_video(person, "grumpy", 0.5, _loudness(), rng)
    with pytest.raises(ValueError, match="grumpy"):
        face.face_image_set(4, 2, ["happy", "grumpy"], rng)


@pytest.mark.parametrize("intensity", [1.5, -0.1, float("nan")])
def test_intensity_out_of_range(intensity):
    rng = np.random.default_rng(0)
    person = face.random_identity(rng)
    with pytest.raises(ValueError, match=r"intensity.*\[0, 1\]"):
        face.talking_video(person, "happy", intensity, _loudness(), rng)
    with pytest.raises(ValueError, match=r"intensity.*\[0, 1\]"):
        face.emotion_aus("happy", intensity)


def test_bad_action_units_and_loudness():
    rng = np.random.default_rng(0)
    person = face.random_identity(rng)
    with pytest.raises(ValueError, match="AU99"):
        face.draw_face(person, {"AU99": 0.5})
    with pytest.raises(ValueError, match=r"AU12.*\[0, 1\]"):
        face.draw_face(person, {"AU12": 2.0})
    with pytest.raises(ValueError, match="loudness"):
        face.talking_video(person, "happy", 0.5, np.array([0.2, 3.0]), rng)
    with pytest.raises(ValueError, match="loudness"):
        face.talking_video(person, "happy", 0.5, np.zeros((2, 2)), rng)


def test_the_face_teacher_does_not_depend_on_what_ran_before_it(tmp_path, monkeypatch):
    """train_teacher seeds before it builds the model, so the teacher of a corpus seed
    is the same whatever random numbers the process drew before the call (it was not:
    the initial weights came from the global generator's state at the time)."""
    import torch

    from sertools.config import get_config
    from sertools.teacher import train_teacher
    monkeypatch.setenv("SERTOOLS_CACHE", str(tmp_path))
    ccfg, tcfg = get_config("quick", n_face_images=400, n_face_identities=20, face_epochs=1)
    weights = []
    for draws in (1, 1000):
        torch.rand(draws)
        np.random.rand(draws)
        model = train_teacher(ccfg, tcfg, progress=False, refresh=True)["model"]
        weights.append(torch.cat([p.flatten().float() for p in model.state_dict().values()]))
    assert torch.equal(*weights)
