"""The supersampled canvas every face is drawn on, and the colour helpers.

A face is drawn at ``SUPERSAMPLE`` (4) times the output size and shrunk by
averaging 4 x 4 blocks (supersampling anti-aliasing), so features a few
pixels wide still read at 64 x 64. This module holds that canvas (the
background scene, the shrinking), the two colour operations every part uses
(``shade``, ``mix``) and the sample points that several parts share.
"""
from __future__ import annotations

import functools

import cv2
import numpy as np

SUPERSAMPLE = 4  # draw at 4x the output size, then area-average down
# Line type of every primitive. Supersampling followed by area averaging is
# itself anti-aliasing (each output pixel averages 16 canvas pixels), so the
# cheaper 8-connected rasteriser looks the same as cv2.LINE_AA here at about
# half the cost; set cv2.LINE_AA to compare.
LINE = cv2.LINE_8

# Sample points shared by several parts (computed once).
# (2, 1): -1 = the face's right (picture left), +1 = its left; times an
# (n,) outline gives a left-right pair of shape (2, n), drawn in one call.
SIDES = np.array([[-1.0], [1.0]])
_ANG = np.linspace(0.0, 2.0 * np.pi, 40, endpoint=False)
ECOS, ESIN = np.cos(_ANG[::2]), np.sin(_ANG[::2])  # 20-gon for ellipses


def shade(color, k: float) -> tuple:
    """``color`` scaled by ``k`` (darker below 1), clipped to [0, 255].

    ``color`` is an RGB triple; the result is a tuple of three floats.
    """
    return (min(255.0, color[0] * k), min(255.0, color[1] * k), min(255.0, color[2] * k))


def mix(c1, c2, w: float) -> tuple:
    """(1 - w) * c1 + w * c2, for RGB triples; a tuple of three floats."""
    return tuple((1.0 - w) * x + w * y for x, y in zip(c1, c2))


def shrink(img: np.ndarray, factor: int) -> np.ndarray:
    """Average ``factor`` x ``factor`` blocks: the anti-aliasing step.

    Same result as ``cv2.resize(..., interpolation=cv2.INTER_AREA)``; for a
    power of two, repeated halving with INTER_LINEAR (which at exactly half
    size averages 2 x 2 blocks) is about three times faster.

    Parameters
    ----------
    img : numpy.ndarray
        uint8, shape (H, W, 3), H and W multiples of ``factor``.
    factor : int
        The supersampling factor.

    Returns
    -------
    numpy.ndarray
        uint8, shape (H // factor, W // factor, 3).
    """
    while factor % 2 == 0:
        img = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_LINEAR)
        factor //= 2
    if factor > 1:
        img = cv2.resize(img, (img.shape[1] // factor, img.shape[0] // factor), interpolation=cv2.INTER_AREA)
    return img


@functools.lru_cache(maxsize=64)
def background(top: tuple, bottom: tuple, side: int) -> np.ndarray:
    """The scene: a vertical gradient from ``top`` to ``bottom`` (cached per identity).

    Parameters
    ----------
    top, bottom : tuple of float
        RGB colours of the first and the last row.
    side : int
        Width and height of the canvas in pixels.

    Returns
    -------
    numpy.ndarray
        uint8, shape (side, side, 3), read-only: it is shared between
        calls, so copy it before drawing on it.
    """
    ramp = np.linspace(0.0, 1.0, side)[:, None, None]
    col = np.rint(np.asarray(top) + ramp * (np.asarray(bottom) - np.asarray(top))).astype(np.uint8)
    img = cv2.resize(col, (side, side), interpolation=cv2.INTER_NEAREST)  # repeat the column
    img.flags.writeable = False  # shared between calls; draw_face copies it
    return img
