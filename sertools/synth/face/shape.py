"""The head and the skin: shoulders, neck, the hair behind the head, ears,
the face outline with its shading, and the cheeks.

These are the layers drawn first, back to front. The face is an ellipse
with a narrower jaw; the chin moves down when the jaw opens. The cheeks
carry a faint warm highlight that the cheek raiser (AU6; FACS, Ekman &
Friesen 1978) lifts.
"""
from __future__ import annotations

import numpy as np

from .canvas import SIDES, mix, shade
from .identity import Identity
from .pose import Pen

# the face outline: a 40-gon, its lower half shaped by the jaw and the chin
_ANG = np.linspace(0.0, 2.0 * np.pi, 40, endpoint=False)
_COS, _SIN = np.cos(_ANG), np.sin(_ANG)
_SIN_POS = np.clip(_SIN, 0.0, 1.0)
# long hair behind the shoulders, the neck
_LONG_BACK_U = np.array([-1.18, -1.25, -1.1, 1.1, 1.25, 1.18])
_LONG_BACK_V = np.array([-0.5, 0.9, 1.35, 1.35, 0.9, -0.5])
_NECK_U = np.array([-0.44, -0.47, -0.56, 0.56, 0.47, 0.44])
_NECK_V = np.array([0.55, 1.15, 1.6, 1.6, 1.15, 0.55])


def draw_body(pen: Pen, ident: Identity, chin_drop: float) -> None:
    """Shoulders, neck, the hair behind the head, and the ears.

    ``chin_drop`` (face units) moves the shadow under the chin down with the
    jaw (see ``mouth.jaw``). Cropped hair has no hair behind the head; long
    hair falls behind the shoulders.
    """
    skin, hair = ident.skin, ident.hair
    pen.ellipse(0.0, 2.05, 2.3, 0.75, ident.clothes, dz=-0.6)
    if ident.hair_style == "long":
        pen.poly(_LONG_BACK_U, _LONG_BACK_V, shade(hair, 0.8), dz=-0.9)
    pen.poly(_NECK_U, _NECK_V, shade(skin, 0.8), dz=-0.5)
    pen.ellipse(0.0, 1.0 + chin_drop, 0.5, 0.22, shade(skin, 0.62), dz=-0.5)  # shadow under the chin
    if ident.hair_style != "cropped":
        pen.ellipse(0.0, -0.22, 1.17, 1.0, shade(hair, 0.85), dz=-0.75)
    pen.ellipse(SIDES * 0.99, 0.0, 0.14, 0.2, shade(skin, 0.8), dz=-0.78)      # ears


def draw_skin(pen: Pen, ident: Identity, au: dict[str, float], chin_drop: float) -> None:
    """The face: a dark contour and lighter layers towards the key light, then the cheeks.

    ``au`` holds every action unit (``action_units.check_aus``); AU6 (cheek
    raiser; FACS, Ekman & Friesen 1978) lifts the cheeks and warms them.
    ``chin_drop`` lowers the chin.
    """
    skin = ident.skin
    ls = ident.light_side
    fu = _COS * (1.0 - (1.0 - ident.jaw) * _SIN_POS ** 2)          # narrower jaw
    fv = _SIN * (1.0 + chin_drop * _SIN_POS)                        # chin drops
    pen.poly(fu, fv, shade(skin, 0.8), dz=-0.75)
    pen.poly(0.93 * fu + 0.03 * ls, 0.95 * fv - 0.02, shade(skin, 0.91), dz=-0.5)
    pen.poly(0.8 * fu + 0.07 * ls, 0.86 * fv - 0.05, skin, dz=-0.3)
    # cheeks: a faint warm highlight that AU6 (cheek raiser) lifts
    au6 = au["AU6"]
    cheek = mix(shade(skin, 1.04), ident.lips, 0.12 + 0.1 * au6)
    pen.ellipse(SIDES * 0.5, 0.32 - 0.12 * au6, 0.2, 0.13, cheek)
