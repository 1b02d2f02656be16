"""What a camera adds to a drawn face: blur, sensor noise, and occluders.

Real face videos and expression datasets are blurred, noisy and sometimes
show a hand or an object in front of the face; these nuisances make the
synthetic faces harder to read, as real ones are. They are simple image
operations (Gaussian blur, Gaussian pixel noise, a filled rotated box), not
a model of any camera.
"""
from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from .identity import SKIN_TONES, Identity


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """``img`` under a Gaussian blur of ``sigma`` pixels; unchanged for sigma <= 0.1.

    ``img`` is uint8 of shape (H, W, 3); so is the result.
    """
    return cv2.GaussianBlur(img, (0, 0), sigma) if sigma > 0.1 else img


def add_noise(images: np.ndarray, noise_std: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian pixel noise (sensor noise) of ``noise_std`` grey levels, clipped back to uint8.

    ``images`` is a uint8 array of any shape; the result is a new uint8 array
    of the same shape (``images`` itself when ``noise_std`` <= 0, drawing
    nothing from ``rng``).
    """
    if noise_std <= 0:
        return images
    noisy = images.astype(np.float32)
    noisy += noise_std * rng.standard_normal(images.shape, dtype=np.float32)
    return np.clip(noisy, 0, 255, out=noisy).astype(np.uint8)


def occluder(size: int, identity: Identity, rng: np.random.Generator) -> Callable[[np.ndarray], None]:
    """A function that draws a hand or an object (a rotated box) over part of the face.

    The box's place, size, angle and colour (a skin tone for a hand, any
    colour for a cup, a phone or a microphone) are drawn from ``rng`` now,
    so every frame it is applied to shows the same occluder.

    Parameters
    ----------
    size : int
        Width and height of the frames in pixels.
    identity : Identity
        The face it covers (its size sets the box's).
    rng : numpy.random.Generator

    Returns
    -------
    callable
        ``draw(img)`` draws in place on a uint8 frame of shape (size, size, 3).
    """
    b = identity.face_height * size
    a = b * identity.face_ratio
    center = (0.5 * size + rng.uniform(-0.7, 0.7) * a, 0.47 * size + rng.uniform(-0.6, 0.8) * b)
    box = (rng.uniform(0.5, 1.2) * a, rng.uniform(0.35, 0.8) * b)
    angle = rng.uniform(-30.0, 30.0)
    if rng.random() < 0.5:  # a hand: a skin tone
        color = SKIN_TONES[rng.integers(len(SKIN_TONES))] * rng.uniform(0.8, 1.05)
    else:                   # an object: a cup, a phone, a microphone
        color = rng.uniform(0, 255, 3)
    pts = np.rint(cv2.boxPoints((center, box, angle))).astype(np.int32)

    def draw(img):
        cv2.fillConvexPoly(img, pts, tuple(float(c) for c in color), cv2.LINE_AA)
        cv2.polylines(img, [pts], True, tuple(float(c) * 0.7 for c in color), 1, cv2.LINE_AA)
    return draw
