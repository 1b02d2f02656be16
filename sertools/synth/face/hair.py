"""The hair in front: from temple to temple over the top, down to the hairline.

Four styles (``identity.HAIR_STYLES``): short, long (with strands down the
sides of the face), fringe (down the forehead, never over the brows) and
cropped (thin, lets the skin show through). The hair behind the head is
drawn with the head (``shape.draw_body``). The styles are drawn by eye, not
after any reference.
"""
from __future__ import annotations

import numpy as np

from .canvas import SIDES, mix
from .identity import Identity
from .pose import Pen

_HAIR_ANG = np.linspace(np.pi + 0.5, 2 * np.pi - 0.5, 15)
_HAIR_COS, _HAIR_SIN = np.cos(_HAIR_ANG), np.sin(_HAIR_ANG)
_HAIRLINE_U = np.linspace(1.0, -1.0, 11)
_HAIRLINE_SHAPE = np.abs(_HAIRLINE_U) ** 2.5
_FRINGE = 0.04 * (np.arange(11) % 2)
_LONG_SIDE_U = np.array([0.86, 0.92, 1.04, 1.14, 1.12, 0.98])
_LONG_SIDE_V = np.array([-0.55, 0.0, 0.7, 0.85, 0.0, -0.6])


def draw_hair(pen: Pen, ident: Identity) -> None:
    """The hair over the top of the head, in ``ident.hair_style``; drawn last, over the face."""
    hair, skin = ident.hair, ident.skin
    style = ident.hair_style
    cropped = style == "cropped"
    hl = ident.hairline - (0.12 if cropped else 0.0)
    if style == "fringe":  # down the forehead, but not over the brows
        hl = min(hl + 0.1, ident.eye_height - ident.brow_gap - 0.17)
    temple_v = -0.38 if cropped else -0.3
    grow = 1.01 if cropped else 1.12
    hu = grow * _HAIR_COS[-1] * _HAIRLINE_U
    hv = hl + (temple_v - hl) * _HAIRLINE_SHAPE + (_FRINGE if style == "fringe" else 0.0)
    pen.poly(np.concatenate([grow * _HAIR_COS, hu]), np.concatenate([grow * _HAIR_SIN - 0.05, hv]),
             mix(hair, skin, 0.35) if cropped else hair, dz=-0.4)
    if style == "long":  # strands down the sides of the face
        pen.poly(SIDES * _LONG_SIDE_U, np.broadcast_to(_LONG_SIDE_V, (2, 6)), hair, dz=-0.7)
