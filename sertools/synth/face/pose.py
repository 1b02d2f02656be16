"""Head pose and lighting: where the face's points land, and how bright it is.

``Pen`` maps face units to canvas pixels under a head pose (yaw, roll) and
draws; ``apply_light`` sets the brightness of the finished frame.
``pose_track`` and ``still_pose`` draw the random poses and lights of a
talking clip and of a still image, the nuisances real face videos and
expression datasets have. The head is modelled as a vertical ellipsoid, a
simple stand-in for a head's 3-D shape, not a fitted head model.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from .canvas import ECOS, ESIN, LINE


class Pen:
    """Maps face units (u, v) to canvas pixels under head pose, and draws.

    The head is a vertical ellipsoid: a point at horizontal position ``u``
    sits at depth ``0.75 * sqrt(1 - u^2)`` (plus any extra depth ``dz``, e.g.
    for the nose), so turning the head (yaw) moves central features more than
    ones near the cheeks and foreshortens the far side. Roll rotates the
    picture about the face centre.

    Shapes are only recorded; ``finish`` maps all their points in one numpy
    call and then draws everything in the order it was recorded (one
    vectorised transform is much faster than one per feature, and a left-right
    pair of features is one OpenCV call).

    Parameters
    ----------
    cx, cy : float
        The face centre on the canvas, in pixels.
    a, b : float
        The face's half-width and half-height in canvas pixels (one face
        unit of ``u`` and of ``v``).
    yaw, roll : float
        Head turn about the vertical axis and tilt in the picture plane,
        radians.
    """

    def __init__(self, cx, cy, a, b, yaw, roll):
        self.cx, self.cy, self.a, self.b = cx, cy, a, b
        self.cy_, self.sy = math.cos(yaw), math.sin(yaw)
        self.cr, self.sr = math.cos(roll), math.sin(roll)
        self.ops, self.us, self.vs, self.dzs, self.ns = [], [], [], [], []

    def _add(self, u, v, dz):
        # u, v: one outline (n,) or several of the same length (k, n), drawn
        # in one OpenCV call
        if v.shape != u.shape:
            v = np.broadcast_to(v, u.shape)
        if u.ndim == 2:
            self.us.append(u.ravel())
            self.vs.append(v.ravel())
            rows = u.shape[0]
        else:
            self.us.append(u)
            self.vs.append(v)
            rows = 1
        self.dzs.append(dz)
        self.ns.append(u.size)
        return rows

    def poly(self, u, v, color, dz=0.0):
        """A filled polygon through the points (u, v).

        ``u`` and ``v`` are float arrays of shape (n,) for one polygon or
        (k, n) for k polygons of one colour (``v`` broadcasts to ``u``'s
        shape); ``color`` is RGB; ``dz`` adds depth (face units).
        """
        self.ops.append((0, color, self._add(u, v, dz), 0))

    def line(self, u, v, color, thickness, dz=0.0):
        """An open polyline through (u, v), ``thickness`` in canvas pixels.

        Shapes as for ``poly``: (n,) for one line, (k, n) for k lines.
        """
        self.ops.append((1, color, self._add(u, v, dz), max(1, int(round(thickness)))))

    def ellipse(self, u, v, au, bv, color, dz=0.0, tilt=0.0):
        """A filled ellipse centred at (u, v) with semi-axes (au, bv).

        As a 20-gon in face units, so pose foreshortens it like the rest;
        ``u`` may be ``SIDES * x`` (shape (2, 1)) for a left-right pair, and
        any argument may be a (k, 1) array for k ellipses. ``tilt`` shears
        it (dv/du).
        """
        du = au * ECOS
        self.poly(u + du, v + bv * ESIN + tilt * du, color, dz)

    def finish(self, img):
        """Map every recorded point to pixels at once, then draw in order.

        ``img`` is the canvas, uint8 of shape (H, W, 3); it is drawn on in
        place.
        """
        u = np.concatenate(self.us)
        v = np.concatenate(self.vs)
        z = 0.75 * np.sqrt(np.maximum(1.0 - u * u, 0.0)) + np.repeat(self.dzs, self.ns)
        x = self.a * (u * self.cy_ + z * self.sy)
        y = self.b * v
        xy = np.empty((u.size, 2), dtype=np.int32)
        xy[:, 0] = np.rint(self.cx + x * self.cr - y * self.sr)
        xy[:, 1] = np.rint(self.cy + x * self.sr + y * self.cr)
        start = 0
        for (kind, color, rows, thickness), n in zip(self.ops, self.ns):
            outlines = list(xy[start:start + n].reshape(rows, -1, 2))
            start += n
            if kind == 0:
                cv2.fillPoly(img, outlines, color, LINE)
            else:
                cv2.polylines(img, outlines, False, color, thickness, LINE)


def apply_light(img: np.ndarray, light: float) -> np.ndarray:
    """``img`` with its brightness scaled by ``light`` (1 = as drawn).

    ``img`` is uint8 of shape (H, W, 3); the result has the same shape and
    dtype, saturated at 255 (a new array unless ``light`` is 1).
    """
    if light != 1.0:
        img = cv2.convertScaleAbs(img, alpha=float(light))
    return img


def pose_track(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Head yaw, roll and light over the ``n`` frames of a talking clip.

    The head starts in a random pose and drifts in a slow random walk, kept
    to what a frontal face detector copes with (yaw within +-0.35 rad, roll
    within +-0.2 rad); the light starts at a random level and changes
    linearly by up to +-20 % over the clip.

    Returns
    -------
    yaw, roll, light : numpy.ndarray
        float64, shape (n,) each; radians, radians, brightness factor.
    """
    yaw = rng.uniform(-0.15, 0.15) + np.cumsum(rng.normal(0.0, 0.025, n))
    roll = rng.uniform(-0.08, 0.08) + np.cumsum(rng.normal(0.0, 0.012, n))
    light = rng.uniform(0.75, 1.2) * np.linspace(1.0, 1.0 + rng.uniform(-0.2, 0.2), n)
    return np.clip(yaw, -0.35, 0.35), np.clip(roll, -0.2, 0.2), light


def still_pose(rng: np.random.Generator) -> dict[str, float]:
    """A random head pose and light for a still image.

    Returns
    -------
    dict with float values
        ``yaw`` (radians, normal with sd 0.1, within +-0.3), ``roll``
        (radians, sd 0.06, within +-0.2) and ``light`` (brightness factor in
        [0.7, 1.25]): keyword arguments of ``draw_face``.
    """
    return dict(yaw=float(np.clip(rng.normal(0.0, 0.1), -0.3, 0.3)),
                roll=float(np.clip(rng.normal(0.0, 0.06), -0.2, 0.2)),
                light=rng.uniform(0.7, 1.25))
