"""The nose: a shaded bridge, wings, tip and nostrils.

The nose wrinkler (AU9; FACS, Ekman & Friesen 1978) widens the wings, pulls
them up and wrinkles the skin across the bridge.
"""
from __future__ import annotations

import numpy as np

from .canvas import SIDES, shade
from .identity import Identity
from .pose import Pen

_ZERO2 = np.zeros(2)
_NOSE_WRINKLE_U = np.tile([-0.08, 0.0, 0.08], (2, 1))
_NOSE_WRINKLE_V = np.array([[0.06, 0.08, 0.06], [0.105, 0.125, 0.105]])


def wings(ident: Identity, au9: float) -> tuple[float, float]:
    """Half-width (``u``) and height (``v``) of the nose wings under AU9.

    AU9 (nose wrinkler; FACS, Ekman & Friesen 1978) widens the wings and
    pulls them up. The mouth's
    nasolabial folds start at the wings, so ``mouth`` uses this too.
    """
    nw = ident.nose_width * (1.0 + 0.15 * au9)
    nv = ident.nose_length - 0.03 * au9                # AU9 pulls the wings up
    return nw, nv


def draw_nose(pen: Pen, ident: Identity, au: dict[str, float], px: float) -> None:
    """The nose, raised towards the viewer (``dz``) so that yaw moves it most.

    ``au`` holds every action unit (``action_units.check_aus``); only AU9
    (nose wrinkler; FACS, Ekman & Friesen 1978) acts here, wrinkling the
    bridge. ``px`` is one pixel of a 64-pixel image, in canvas pixels.
    """
    au9, skin, ev = au["AU9"], ident.skin, ident.eye_height
    nw, nv = wings(ident, au9)
    pen.line(SIDES * np.array([0.09, 0.1, nw - 0.02]),
             np.broadcast_to(np.array([ev + 0.02, nv - 0.12, nv - 0.03]), (2, 3)), shade(skin, 0.86), px, dz=0.1)
    pen.ellipse(SIDES * (nw - 0.035), nv - 0.01, 0.06, 0.055, shade(skin, 0.8), dz=0.15)    # wings
    pen.ellipse(0.0, nv - 0.035, 0.08, 0.06, shade(skin, 1.07), dz=0.3)                   # tip highlight
    pen.line(_ZERO2, np.array([ev - 0.05, nv - 0.12]), shade(skin, 1.06), px, dz=0.2)     # bridge highlight
    pen.ellipse(0.0, nv + 0.035, nw * 0.8, 0.03, shade(skin, 0.72), dz=0.15)            # shadow under it
    pen.ellipse(SIDES * 0.055, nv + 0.012, 0.04, 0.022, shade(skin, 0.35), dz=0.25, tilt=SIDES * 0.3)  # nostril
    if au9 > 0.05:  # wrinkles across the bridge
        pen.line(_NOSE_WRINKLE_U, ev + _NOSE_WRINKLE_V, shade(skin, 1.0 - 0.35 * au9), 0.6 * px, dz=0.2)
