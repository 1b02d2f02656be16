"""Synthetic faces that show emotions through facial action units.

A face here is a drawing, but a drawing built on the way psychologists
describe real expressions: the Facial Action Coding System (FACS) of Ekman &
Friesen (1978). FACS splits every visible facial movement into *action
units* (AUs), each the work of one muscle or muscle group: AU12 (zygomaticus
major) pulls the lip corners up, AU4 (corrugator, depressor supercilii)
lowers the brows and draws them together, and so on. An emotion is then a
typical *combination* of AUs, its prototype (EMFACS; Ekman, Friesen & Hager
2002), listed in ``AU_PROTOTYPES``:

======== ============================== =====================================
emotion  prototype action units         what the drawing shows
======== ============================== =====================================
happy    AU6 + AU12                     cheeks raised (lower lids push up),
                                        lip corners pulled up
sad      AU1 + AU4 + AU15               inner brows raised and drawn
                                        together, lip corners down
angry    AU4 + AU5 + AU7 + AU23         brows lowered and drawn together,
                                        upper lids raised, lids tightened,
                                        lips pressed thin
surprise AU1 + AU2 + AU5 + AU26         whole brows raised, eyes wide, jaw
                                        dropped
fear     AU1+2+4+5+7+20+26              raised and drawn brows, wide eyes,
                                        lips stretched, mouth open
disgust  AU9 + AU15 + AU16              nose wrinkled, lip corners down,
                                        lower lip down
neutral  none                           relaxed
======== ============================== =====================================

``draw_face`` turns an identity (the person: face shape, skin, eyes, hair,
...) and a dict of AU intensities in [0, 1] into an RGB image. The drawing
is realistic enough (eyes with whites and irises in shaded sockets, brows, a
shaded nose with nostrils, lips, hair, neck) that OpenCV's frontal-face Haar
cascade (Viola & Jones 2001) finds it, so face detection can be taught on
the same data. ``talking_video`` animates a face over a clip: the expression
unfolds (onset, apex, offset; ``expression_curve``) while the jaw opens and
closes with the loudness of the voice, syllable by syllable, whatever the
emotion, which is one reason why single frames of a talking face are noisy
evidence of its emotion. ``face_image_set`` makes a labeled set of still
images, the stand-in for face-expression datasets such as FER2013.

Only numpy and OpenCV are used. A face is drawn at ``_SUPERSAMPLE`` (4) times
the output size and shrunk by averaging 4 x 4 blocks (supersampling
anti-aliasing), so features a few pixels wide still read at 64 x 64. One
frame takes about half a millisecond.

References
----------
Ekman, P., & Friesen, W. V. (1978). Facial Action Coding System: A technique
for the measurement of facial movement. Consulting Psychologists Press.

Ekman, P., Friesen, W. V., & Hager, J. C. (2002). Facial Action Coding
System: The manual. Research Nexus.

Viola, P., & Jones, M. (2001). Rapid object detection using a boosted
cascade of simple features. CVPR.
"""
from __future__ import annotations

import cv2
import numpy as np

from .action_units import ACTION_UNITS, AU_PROTOTYPES, emotion_aus
from .action_units import check_emotion as _check_emotion
from .checks import check_range as _check_range
from .draw import draw_face
from .identity import HAIR_STYLES, Identity, random_identity
from .identity import SKIN_TONES as _SKIN

__all__ = [
    "ACTION_UNITS",
    "AU_PROTOTYPES",
    "HAIR_STYLES",
    "Identity",
    "random_identity",
    "emotion_aus",
    "draw_face",
    "expression_curve",
    "talking_video",
    "face_image_set",
]


def expression_curve(n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """How strongly an expression shows in each frame of a clip.

    Facial expressions unfold in time: an *onset* while the muscles contract,
    an *apex* plateau, and an *offset* back towards rest (the temporal phases
    of an action in FACS; Ekman & Friesen 1978). The onset may begin before the
    clip starts and the offset may not be over when it ends, so frames of one
    clip show the same expression at different intensities.

    Parameters
    ----------
    n_frames : int
        Number of frames (at least 1).
    rng : numpy.random.Generator
        Picks the onset time and the phase durations.

    Returns
    -------
    numpy.ndarray
        float64, shape (n_frames,), values in [0, 1]; the apex frames are 1.

    Examples
    --------
    >>> curve = expression_curve(8, np.random.default_rng(0))
    >>> curve.shape, float(curve.max())
    ((8,), 1.0)
    """
    n_frames = int(_check_range("n_frames", n_frames, 1))
    t = (np.arange(n_frames) + 0.5) / n_frames            # frame centres in (0, 1)
    onset = rng.uniform(-0.25, 0.35)                     # start of the onset
    rise = rng.uniform(0.1, 0.3)                         # onset duration
    apex = rng.uniform(0.25, 0.6)                        # plateau duration
    fall = rng.uniform(0.15, 0.45)                       # offset duration
    rest = rng.uniform(0.0, 0.35)                        # level left after the offset
    up = np.clip((t - onset) / rise, 0.0, 1.0)
    down = np.clip((t - onset - rise - apex) / fall, 0.0, 1.0)
    # raised-cosine ramps: smooth starts and stops, like a muscle's movement
    curve = 0.5 - 0.5 * np.cos(np.pi * up)
    curve = curve * (1.0 - (1.0 - rest) * (0.5 - 0.5 * np.cos(np.pi * down)))
    return curve / max(curve.max(), 1e-9)                # the apex reaches 1 within the clip


def _occluder(size: int, identity: Identity, rng: np.random.Generator):
    """A function that draws a hand or an object (a rotated box) over part of the face."""
    b = identity.face_height * size
    a = b * identity.face_ratio
    center = (0.5 * size + rng.uniform(-0.7, 0.7) * a, 0.47 * size + rng.uniform(-0.6, 0.8) * b)
    box = (rng.uniform(0.5, 1.2) * a, rng.uniform(0.35, 0.8) * b)
    angle = rng.uniform(-30.0, 30.0)
    if rng.random() < 0.5:  # a hand: a skin tone
        color = _SKIN[rng.integers(len(_SKIN))] * rng.uniform(0.8, 1.05)
    else:                   # an object: a cup, a phone, a microphone
        color = rng.uniform(0, 255, 3)
    pts = np.rint(cv2.boxPoints((center, box, angle))).astype(np.int32)

    def draw(img):
        cv2.fillConvexPoly(img, pts, tuple(float(c) for c in color), cv2.LINE_AA)
        cv2.polylines(img, [pts], True, tuple(float(c) * 0.7 for c in color), 1, cv2.LINE_AA)
    return draw


def talking_video(identity: Identity, emotion: str, intensity: float, loudness: np.ndarray,
                  rng: np.random.Generator, size: int = 64, occlusion_prob: float = 0.1,
                  blur_max: float = 1.0, noise_std: float = 4.0) -> np.ndarray:
    """Frames of a face that speaks while it shows an emotion.

    Each frame draws the emotion's prototype action units at
    ``intensity * expression_curve(...)`` (onset, apex, offset over the clip)
    with the jaw opened by the voice's loudness in that frame: the mouth
    opens and closes syllable by syllable whatever the emotion, so a single
    frame's mouth says little about the emotion, while the brows, eyes and
    lip corners carry it (docs/emotion-cues.md, "Face"). On top come what real
    videos have: the head drifts (yaw, roll), the light changes, the camera
    blurs and adds noise, and sometimes a hand or an object covers part of
    the face for a stretch of frames.

    Parameters
    ----------
    identity : Identity
        The speaker's face.
    emotion : str
        A key of ``AU_PROTOTYPES``.
    intensity : float in [0, 1]
        Strength of the expression at its apex.
    loudness : array of float, shape (n_frames,)
        The voice's loudness per frame in [0, 1]; its length sets the number
        of frames.
    rng : numpy.random.Generator
        Source of every random choice; the same state gives the same video.
    size : int, default 64
        Frame width and height in pixels.
    occlusion_prob : float in [0, 1], default 0.1
        Chance that an occluder covers part of the face for some frames.
    blur_max : float >= 0, default 1.0
        The clip's Gaussian blur sigma (pixels) is drawn from [0, blur_max].
    noise_std : float >= 0, default 4.0
        Standard deviation of the added pixel noise (grey levels).

    Returns
    -------
    numpy.ndarray
        uint8, shape (n_frames, size, size, 3), RGB.

    Raises
    ------
    ValueError
        For an unknown emotion, or a parameter out of its range.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> person = random_identity(rng)
    >>> loud = np.abs(np.sin(np.linspace(0, 3 * np.pi, 8)))  # three syllables
    >>> talking_video(person, "sad", 0.8, loud, rng).shape
    (8, 64, 64, 3)
    """
    proto = _check_emotion(emotion)
    intensity = _check_range("intensity", intensity, 0.0, 1.0)
    occlusion_prob = _check_range("occlusion_prob", occlusion_prob, 0.0, 1.0)
    blur_max = _check_range("blur_max", blur_max, 0.0)
    noise_std = _check_range("noise_std", noise_std, 0.0)
    loudness = np.asarray(loudness, dtype=np.float64)
    if loudness.ndim != 1 or loudness.size == 0:
        raise ValueError(f"loudness must be a non-empty 1-D array (one value per frame), "
                         f"got shape {loudness.shape}")
    if not np.all(np.isfinite(loudness)) or loudness.min() < -1e-6 or loudness.max() > 1.0 + 1e-6:
        raise ValueError(f"loudness values must lie in [0, 1]; "
                         f"got min {loudness.min():.3g}, max {loudness.max():.3g}")
    n = loudness.size

    curve = intensity * expression_curve(n, rng)
    jaw_gain = rng.uniform(0.6, 1.0)                       # how wide this speaker opens the mouth
    # head pose: a random start and a slow random walk; light: a slow change
    yaw = rng.uniform(-0.15, 0.15) + np.cumsum(rng.normal(0.0, 0.025, n))
    roll = rng.uniform(-0.08, 0.08) + np.cumsum(rng.normal(0.0, 0.012, n))
    light = rng.uniform(0.75, 1.2) * np.linspace(1.0, 1.0 + rng.uniform(-0.2, 0.2), n)
    sigma = rng.uniform(0.0, blur_max)
    occluded = np.zeros(n, dtype=bool)
    draw_occluder = None
    if rng.random() < occlusion_prob:
        length = int(rng.integers(max(1, n // 3), n + 1))
        start = int(rng.integers(0, n - length + 1))
        occluded[start:start + length] = True
        draw_occluder = _occluder(size, identity, rng)

    frames = np.empty((n, size, size, 3), dtype=np.uint8)
    for i in range(n):
        aus = {k: v * curve[i] for k, v in proto.items()}
        frame = draw_face(identity, aus, mouth_open=jaw_gain * min(max(loudness[i], 0.0), 1.0),
                          yaw=float(np.clip(yaw[i], -0.35, 0.35)), roll=float(np.clip(roll[i], -0.2, 0.2)),
                          light=float(light[i]), size=size)
        if occluded[i]:
            draw_occluder(frame)
        if sigma > 0.1:
            frame = cv2.GaussianBlur(frame, (0, 0), sigma)
        frames[i] = frame
    return _add_noise(frames, noise_std, rng)


def _add_noise(images: np.ndarray, noise_std: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian pixel noise (sensor noise), clipped back to uint8."""
    if noise_std <= 0:
        return images
    noisy = images.astype(np.float32)
    noisy += noise_std * rng.standard_normal(images.shape, dtype=np.float32)
    return np.clip(noisy, 0, 255, out=noisy).astype(np.uint8)


def face_image_set(n: int, n_identities: int, emotions, rng: np.random.Generator,
                   size: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A labeled set of still face images, like a facial-expression dataset.

    The stand-in for datasets such as FER2013 or RAF-DB that a face
    classifier (the teacher of cross-modal transfer) learns from. Every
    image shows one of ``emotions`` at a random intensity in [0.4, 1]. As in
    real expression datasets, the prototype is not always complete (each of
    its action units is sometimes weak or missing: people do not move their
    muscles identically, Ekman & Friesen 1978 list variants for every
    emotion), and now and then a stray weak action unit appears. Head pose,
    light, blur and noise vary, and the lips are sometimes slightly parted.
    Faces come from ``n_identities`` random people, each used about equally
    often; split on ``identity`` to test on people the classifier has never
    seen.

    Parameters
    ----------
    n : int
        Number of images.
    n_identities : int
        Number of different people.
    emotions : sequence of str
        Class names, keys of ``AU_PROTOTYPES``; labels index into it.
    rng : numpy.random.Generator
        Source of every random choice.
    size : int, default 64
        Image width and height.

    Returns
    -------
    images : numpy.ndarray
        uint8, shape (n, size, size, 3), RGB.
    labels : numpy.ndarray
        int64, shape (n,), index into ``emotions``; classes are balanced
        (counts differ by at most one).
    identity : numpy.ndarray
        int64, shape (n,), which person (0 .. n_identities - 1).

    Examples
    --------
    >>> imgs, y, who = face_image_set(8, 2, ["neutral", "happy"], np.random.default_rng(0))
    >>> imgs.shape, np.bincount(y).tolist(), np.bincount(who).tolist()
    ((8, 64, 64, 3), [4, 4], [4, 4])
    """
    emotions = list(emotions)
    if not emotions:
        raise ValueError("emotions must name at least one emotion")
    protos = [_check_emotion(e) for e in emotions]
    n = int(_check_range("n", n, 0))
    n_identities = int(_check_range("n_identities", n_identities, 1))
    people = [random_identity(rng) for _ in range(n_identities)]
    labels = rng.permutation(np.arange(n) % len(emotions)).astype(np.int64)
    identity = rng.permutation(np.arange(n) % n_identities).astype(np.int64)
    au_names = list(ACTION_UNITS)

    images = np.empty((n, size, size, 3), dtype=np.uint8)
    for i in range(n):
        intensity = rng.uniform(0.4, 1.0)
        # each unit at 50-115 % of the expression's intensity, or missing
        # (20 %); an expression keeps at least its strongest unit
        scale = rng.uniform(0.5, 1.15, len(protos[labels[i]])) * (rng.random(len(protos[labels[i]])) >= 0.2)
        if scale.size and not scale.any():
            scale[rng.integers(scale.size)] = 1.0
        aus = {k: min(1.0, v * intensity * c) for (k, v), c in zip(protos[labels[i]].items(), scale)}
        if rng.random() < 0.3:  # a stray weak movement: faces are never perfectly still
            k = au_names[rng.integers(len(au_names))]
            aus[k] = min(1.0, aus.get(k, 0.0) + rng.uniform(0.0, 0.25))
        img = draw_face(people[identity[i]], aus, mouth_open=rng.uniform(0.0, 0.3) * (rng.random() < 0.5),
                        yaw=float(np.clip(rng.normal(0.0, 0.1), -0.3, 0.3)),
                        roll=float(np.clip(rng.normal(0.0, 0.06), -0.2, 0.2)),
                        light=rng.uniform(0.7, 1.25), size=size)
        sigma = rng.uniform(0.0, 1.0)
        images[i] = cv2.GaussianBlur(img, (0, 0), sigma) if sigma > 0.1 else img
    images = _add_noise(images, 4.0, rng)
    return images, labels, identity
