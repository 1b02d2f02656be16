"""The eyes and the brows, with the wrinkles around them.

How the action units move them follows the FACS descriptions (Ekman &
Friesen 1978): AU1 raises the inner ends of the brows and AU2 the outer
ends (with horizontal lines across the forehead); AU4 lowers the brows and
pulls them together (with vertical furrows between them); AU5 raises the
upper lids (more white above the iris); AU6 raises the cheeks, pushing the
lower lids up (crow's feet at the outer corners); AU7 tightens and raises
the lower lids; AU9 lowers the brows a little.

Both eyes (and both brows) are drawn at once, as arrays of shape (2, n):
row 0 is the face's right (picture left), row 1 its left.
"""
from __future__ import annotations

import numpy as np

from .canvas import ECOS, ESIN, SIDES, shade
from .identity import Identity
from .pose import Pen

_T9 = np.linspace(-1.0, 1.0, 9)
# eyes: lid curves along the eye, outer corners slightly higher
_BELL9 = 1.0 - _T9 ** 2
_UP_LID = _BELL9 ** 0.7
_TILT9 = 0.02 * SIDES * _T9
_CROW_V = np.tile(np.array([-0.04, 0.0, 0.04])[:, None] * np.array([0.6, 1.6]), (2, 1))
# brows: quadratic Bezier weights, thick head and thin tail
_BT = (_T9 + 1.0) / 2.0
_BZ0, _BZ1, _BZ2 = (1 - _BT) ** 2, 2 * (1 - _BT) * _BT, _BT ** 2
_BROW_HALF = 0.5 + 0.5 * np.sin(np.pi * (0.15 + 0.7 * _BT))
_BROW_HALF[0] = 0.75
_FOREHEAD_U = np.tile(0.3 * _T9, (2, 1))
_FOREHEAD_V = np.array([[0.1], [0.19]]) + 0.02 * _BELL9


def _half_width(ident: Identity) -> float:
    """Half-width of an eye (``u`` units)."""
    return 0.25 * ident.eye_size


def draw_eyes(pen: Pen, ident: Identity, au: dict[str, float], px: float) -> None:
    """Both eyes: socket shadows, whites, irises and pupils, lids, crow's feet.

    ``au`` holds every action unit (``action_units.check_aus``); as FACS
    describes them (Ekman & Friesen 1978), AU5 raises the upper lids, AU6
    and AU7 push the lower lids up, and AU6 adds crow's feet. ``px`` is one
    pixel of a 64-pixel image, in canvas pixels (line widths scale with it).
    """
    au5, au6, au7 = au["AU5"], au["AU6"], au["AU7"]
    skin, ev, es = ident.skin, ident.eye_height, ident.eye_spacing
    ew = _half_width(ident)
    # AU5 raises the upper lid; AU6 (cheeks) and AU7 (lid tightener) push the
    # lower lid up and straighten it, narrowing the eye from below.
    up_h = max(0.085 * ident.eye_open * (1.0 + 0.75 * au5 - 0.25 * au6 - 0.12 * au7), 0.02)
    lo_h = max(0.06 * ident.eye_open * (1.0 - 0.6 * au6 - 0.55 * au7), 0.008)
    lo_pow = 1.0 + 1.5 * max(au6, au7)
    ex = SIDES * es
    pen.ellipse(ex, ev - 0.025, ew * 1.45, 0.17, shade(skin, 0.78))                # socket shadow
    x = ex + ew * _T9
    upper = ev - up_h * _UP_LID - _TILT9
    lower = ev + lo_h * _BELL9 ** lo_pow - _TILT9
    pen.poly(np.concatenate([x, x[:, ::-1]], axis=1), np.concatenate([upper, lower[:, ::-1]], axis=1),
             (236, 232, 226))
    # iris and pupil, clipped to the eye opening by clamping their outlines
    ratio = ident.face_ratio
    for r, color in ((0.1, ident.iris), (0.045, (15, 12, 12))):
        bell = np.maximum(1.0 - ((r / ratio / ew) * ECOS) ** 2, 0.0)  # lid curves at the outline's u
        tilt = (0.02 * r / ratio / ew) * SIDES * ECOS
        iv = np.minimum(np.maximum(ev + 0.005 + r * ESIN, ev - up_h * bell ** 0.7 - tilt),
                        ev + lo_h * bell ** lo_pow - tilt)
        pen.poly(ex + (r / ratio) * ECOS, iv, color)
    # upper lid line with lashes, the lid crease above it, the lower lid
    pen.line(x, upper - 0.008, shade(ident.brow, 0.45), 1.1 * px)
    pen.line(np.concatenate([x[:, 1:-1], x[:, 1:-1]]),
             np.concatenate([upper[:, 1:-1] - 0.045 - 0.02 * au5, lower[:, 1:-1] + 0.01]),
             shade(skin, 0.65), 0.5 * px)
    if au6 > 0.05:  # crow's feet at the outer corners
        cu = np.repeat(SIDES * (es + ew * np.array([1.05, 1.35])), 3, axis=0)     # (6, 2)
        pen.line(cu, ev + _CROW_V, shade(skin, 1.0 - 0.3 * au6), 0.5 * px)


def draw_brows(pen: Pen, ident: Identity, au: dict[str, float], px: float) -> None:
    """Both brows, each a tapered quadratic Bezier from the inner to the outer end,
    with the furrows between them (AU4) and the lines across the forehead (AU1, AU2).

    ``au`` holds every action unit (``action_units.check_aus``); as FACS
    describes them (Ekman & Friesen 1978), AU1 raises the inner ends, AU2
    the outer ends, AU4 lowers the brows and draws them together, AU9
    lowers them a little. ``px`` as for ``draw_eyes``.
    """
    au1, au2, au4, au9 = au["AU1"], au["AU2"], au["AU4"], au["AU9"]
    skin, es, ew = ident.skin, ident.eye_spacing, _half_width(ident)
    bv = ident.eye_height - ident.brow_gap
    bt = ident.brow_thickness * (1.0 + 0.25 * au4)          # AU4 bunches the brows
    # AU1 lifts the inner ends, AU2 the outer ones; AU4 lowers the brows and
    # pulls the inner ends together and down; AU9 lowers them a little.
    inner_u = SIDES * (es - ew - 0.02 - 0.07 * au4)
    mid_u = SIDES * (es + 0.02 - 0.03 * au4)
    outer_u = SIDES * (es + ew + 0.1)
    inner_v = bv + 0.02 - ident.brow_slant - 0.14 * au1 + 0.1 * au4 + 0.04 * au9
    mid_v = bv - 0.04 - 0.05 * au1 - 0.08 * au2 + 0.05 * au4 + 0.03 * au9
    outer_v = bv + 0.01 - 0.12 * au2 + 0.04 * au4 + 0.02 * au9
    u = _BZ0 * inner_u + _BZ1 * mid_u + _BZ2 * outer_u
    v = np.tile(_BZ0 * inner_v + _BZ1 * mid_v + _BZ2 * outer_v, (2, 1))   # same heights on both sides
    half = bt * _BROW_HALF
    pen.poly(np.concatenate([u, u[:, ::-1]], axis=1), np.concatenate([v - half, (v + half)[:, ::-1]], axis=1),
             ident.brow)
    if au4 > 0.05:  # vertical furrows between the brows
        pen.line(SIDES * np.array([0.06, 0.05]), np.broadcast_to(np.array([bv - 0.02, bv + 0.12]), (2, 2)),
                 shade(skin, 1.0 - 0.3 * au4), 0.6 * px)
    if max(au1, au2) > 0.05:  # horizontal lines across the forehead
        pen.line(_FOREHEAD_U, bv - _FOREHEAD_V, shade(skin, 1.0 - 0.22 * max(au1, au2)), 0.5 * px)
