"""The mouth and the jaw: lips, the opening with the teeth, the nasolabial folds.

The lip movements follow the FACS descriptions (Ekman & Friesen 1978): AU12
(lip corner puller) pulls the corners up and out, AU15 (lip corner
depressor) down; AU20 stretches the lips sideways, AU23 presses them thin,
AU16 lowers the lower lip, AU9 lifts the upper one; AU26 drops the jaw.
Speech opens the jaw too (``mouth_open``), on top of the expression.
"""
from __future__ import annotations

import numpy as np

from .canvas import SIDES, shade
from .identity import Identity
from .nose import wings
from .pose import Pen

# lip shapes along the mouth, with the cupid's bow of the upper lip
_T13 = np.linspace(-1.0, 1.0, 13)
_T13SQ = _T13 ** 2
_BELL13 = 1.0 - _T13SQ
_BELL13_07 = _BELL13 ** 0.7
_UPPER_LIP = (0.35 + 0.65 * _BELL13 ** 0.5) * (1.0 - 0.35 * np.exp(-(_T13 / 0.15) ** 2))
_LOWER_LIP = 0.3 + 0.7 * _BELL13 ** 0.6
_TEETH = np.r_[2:11, 15:24]  # the teeth span the middle of the mouth
_CLOSED = 0.004  # below this opening (face units) the lips meet


def jaw(au: dict[str, float], mouth_open: float) -> tuple[float, float]:
    """How far the mouth opens, and how far the chin moves down with it.

    Total mouth opening: speech (``mouth_open`` in [0, 1]) plus jaw drop
    (AU26); a broad smile (AU12) parts the lips a little, and so does the
    lower-lip depressor (AU16) (FACS, Ekman & Friesen 1978). ``au`` holds every action unit
    (``action_units.check_aus``).

    Returns
    -------
    opening : float
        In [0, 1.2].
    chin_drop : float
        How far the jaw, and with it the chin, moves down (``v`` units).
    """
    opening = min(0.75 * mouth_open + 0.85 * au["AU26"] + 0.2 * au["AU12"] + 0.15 * au["AU16"], 1.2)
    return opening, 0.1 * opening


def _lips(ident: Identity, au: dict[str, float], opening: float, chin_drop: float):
    """The mouth's outlines in face units, each of shape (13,) along the mouth.

    Returns ``mu`` (the ``u`` of the points), ``mw`` (half-width), ``op``
    (opening), ``line_v`` (where the lips meet when closed) and the inner
    and outer edges of the upper and lower lips.
    """
    au9, au12, au15, au16, au20, au23 = (au[k] for k in ("AU9", "AU12", "AU15", "AU16", "AU20", "AU23"))
    mw = ident.mouth_width * (1.0 + 0.14 * au12 + 0.22 * au20 - 0.1 * au23)
    my = ident.mouth_height + 0.5 * chin_drop - 0.025 * au9
    corner = ident.mouth_curve - 0.11 * au12 + 0.1 * au15 + 0.02 * au20 + 0.02 * au16   # + is down
    line_v = my + corner * _T13SQ
    op = 0.24 * opening
    ut = 0.045 * ident.lip_thickness * (1.0 - 0.65 * au23)
    lt = 0.065 * ident.lip_thickness * (1.0 - 0.6 * au23)
    up_in = line_v - (0.2 * op + 0.03 * au9) * _BELL13
    lo_in = line_v + 0.8 * op * _BELL13_07 + 0.06 * au16 * _BELL13
    up_out = up_in - ut * _UPPER_LIP
    lo_out = lo_in + lt * _LOWER_LIP
    return mw * _T13, mw, op, line_v, up_in, lo_in, up_out, lo_out


def draw_mouth(pen: Pen, ident: Identity, au: dict[str, float], opening: float, chin_drop: float,
               px: float) -> None:
    """The nasolabial folds, the opening with the teeth, the lips and their shadows.

    ``au`` holds every action unit (``action_units.check_aus``), moving the
    lips as FACS describes (Ekman & Friesen 1978; see the module
    docstring); the folds deepen with AU6, AU9 and AU12. ``opening`` and
    ``chin_drop`` come from ``jaw``; ``px`` is one pixel of a 64-pixel
    image, in canvas pixels.
    """
    skin, lips = ident.skin, ident.lips
    mu, mw, op, line_v, up_in, lo_in, up_out, lo_out = _lips(ident, au, opening, chin_drop)
    mu2 = np.concatenate([mu, mu[::-1]])
    # nasolabial folds, from the nose wings past the mouth corners, deeper
    # when the cheeks rise (AU6, AU12) or the nose wrinkles (AU9)
    nw, nv = wings(ident, au["AU9"])
    fold = max(au["AU12"], au["AU6"], 0.7 * au["AU9"])
    pen.line(SIDES * np.array([nw + 0.03, nw + 0.12 + 0.05 * fold, mw + 0.07]),
             np.broadcast_to(np.array([nv - 0.02, (nv + line_v[-1]) / 2.0, line_v[-1] + 0.07]), (2, 3)),
             shade(skin, 0.9 - 0.22 * fold), (0.6 + 0.6 * fold) * px)
    if op > _CLOSED:  # the opening, then the teeth in it
        pen.poly(mu2, np.concatenate([up_in, lo_in[::-1]]), (70, 22, 28))
        teeth_lo = np.minimum(up_in + 0.06, lo_in)
        pen.poly(mu2[_TEETH], np.concatenate([up_in, teeth_lo[::-1]])[_TEETH], (232, 228, 218))
        if au["AU16"] > 0.2 or au["AU20"] > 0.2:  # the lower teeth show too
            teeth_hi = np.maximum(lo_in - 0.035, up_in)
            pen.poly(mu2[_TEETH], np.concatenate([teeth_hi, lo_in[::-1]])[_TEETH], (215, 210, 200))
    pen.poly(mu2, np.concatenate([up_out, up_in[::-1]]), shade(lips, 0.85))
    pen.poly(mu2, np.concatenate([lo_in, lo_out[::-1]]), lips)
    pen.line(mu, (up_in + lo_in) / 2.0 if op <= _CLOSED else up_in, shade(lips, 0.45), 0.8 * px)
    # shadows below the lower lip and in the mouth corners
    pen.ellipse(np.array([[0.0], [-mw - 0.01], [mw + 0.01]]),
                np.array([[lo_out[6] + 0.06], [line_v[-1]], [line_v[-1]]]),
                np.array([[0.14], [0.035], [0.035]]), np.array([[0.035], [0.025], [0.025]]), shade(skin, 0.78))
