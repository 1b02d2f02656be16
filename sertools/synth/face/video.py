"""Talking faces: the expression unfolds over a clip while the jaw follows the voice.

``talking_video`` animates a face over a clip. The expression unfolds in the
temporal phases of a FACS action (onset, apex, offset; ``expression_curve``;
Ekman & Friesen 1978) while the jaw opens and closes with the loudness of
the voice, syllable by syllable, whatever the emotion, which is one reason
why single frames of a talking face are noisy evidence of its emotion
(docs/emotion-cues.md, "Face"). Head drift, changing light, blur, noise and
occluders are added as in real videos (``pose``, ``camera``).
"""
from __future__ import annotations

import numpy as np

from .action_units import check_emotion
from .camera import add_noise, blur, occluder
from .checks import check_range
from .draw import draw_face
from .identity import Identity
from .pose import pose_track


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
    n_frames = int(check_range("n_frames", n_frames, 1))
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


def _check_loudness(loudness) -> np.ndarray:
    """``loudness`` as a float64 array of shape (n_frames,), once it is 1-D, non-empty and in [0, 1]."""
    loudness = np.asarray(loudness, dtype=np.float64)
    if loudness.ndim != 1 or loudness.size == 0:
        raise ValueError(f"loudness must be a non-empty 1-D array (one value per frame), "
                         f"got shape {loudness.shape}")
    if not np.all(np.isfinite(loudness)) or loudness.min() < -1e-6 or loudness.max() > 1.0 + 1e-6:
        raise ValueError(f"loudness values must lie in [0, 1]; "
                         f"got min {loudness.min():.3g}, max {loudness.max():.3g}")
    return loudness


def talking_video(identity: Identity, emotion: str, intensity: float, loudness: np.ndarray,
                  rng: np.random.Generator, size: int = 64, occlusion_prob: float = 0.1,
                  blur_max: float = 1.0, noise_std: float = 4.0) -> np.ndarray:
    """Frames of a face that speaks while it shows an emotion.

    Each frame draws the emotion's prototype action units (EMFACS; Ekman,
    Friesen & Hager 2002) at ``intensity * expression_curve(...)`` (onset,
    apex, offset over the clip) with the jaw opened by the voice's loudness in
    that frame: the mouth opens and closes syllable by syllable whatever the
    emotion, so a single frame's mouth says little about the emotion, while
    the brows, eyes and lip corners carry it (docs/emotion-cues.md, "Face").
    On top come what real videos have: the head drifts (yaw, roll), the light
    changes, the camera blurs and adds noise, and sometimes a hand or an
    object covers part of the face for a stretch of frames.

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
    >>> from sertools.synth.face import random_identity
    >>> rng = np.random.default_rng(0)
    >>> person = random_identity(rng)
    >>> loud = np.abs(np.sin(np.linspace(0, 3 * np.pi, 8)))  # three syllables
    >>> talking_video(person, "sad", 0.8, loud, rng).shape
    (8, 64, 64, 3)
    """
    proto = check_emotion(emotion)
    intensity = check_range("intensity", intensity, 0.0, 1.0)
    occlusion_prob = check_range("occlusion_prob", occlusion_prob, 0.0, 1.0)
    blur_max = check_range("blur_max", blur_max, 0.0)
    noise_std = check_range("noise_std", noise_std, 0.0)
    loudness = _check_loudness(loudness)
    n = loudness.size

    curve = intensity * expression_curve(n, rng)
    jaw_gain = rng.uniform(0.6, 1.0)                       # how wide this speaker opens the mouth
    yaw, roll, light = pose_track(n, rng)  # the head drifts, the light changes
    sigma = rng.uniform(0.0, blur_max)
    occluded = np.zeros(n, dtype=bool)
    draw_occluder = None
    if rng.random() < occlusion_prob:
        length = int(rng.integers(max(1, n // 3), n + 1))
        start = int(rng.integers(0, n - length + 1))
        occluded[start:start + length] = True
        draw_occluder = occluder(size, identity, rng)

    frames = np.empty((n, size, size, 3), dtype=np.uint8)
    for i in range(n):
        aus = {k: v * curve[i] for k, v in proto.items()}
        frame = draw_face(identity, aus, mouth_open=jaw_gain * min(max(loudness[i], 0.0), 1.0),
                          yaw=float(yaw[i]), roll=float(roll[i]), light=float(light[i]), size=size)
        if occluded[i]:
            draw_occluder(frame)
        frames[i] = blur(frame, sigma)
    return add_noise(frames, noise_std, rng)
