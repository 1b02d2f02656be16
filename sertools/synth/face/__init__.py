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

import functools
import math

import cv2
import numpy as np

from .action_units import ACTION_UNITS, AU_PROTOTYPES, emotion_aus
from .action_units import check_aus as _check_aus
from .action_units import check_emotion as _check_emotion
from .checks import check_range as _check_range
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

_SUPERSAMPLE = 4  # draw at 4x the output size, then area-average down
# Line type of every primitive. Supersampling followed by area averaging is
# itself anti-aliasing (each output pixel averages 16 canvas pixels), so the
# cheaper 8-connected rasteriser looks the same as cv2.LINE_AA here at about
# half the cost; set cv2.LINE_AA to compare.
_LINE = cv2.LINE_8


# Sample points and shapes reused by every drawing (computed once).
_T9 = np.linspace(-1.0, 1.0, 9)
_T13 = np.linspace(-1.0, 1.0, 13)
_ANG = np.linspace(0.0, 2.0 * np.pi, 40, endpoint=False)
_COS, _SIN = np.cos(_ANG), np.sin(_ANG)
_SIN_POS = np.clip(_SIN, 0.0, 1.0)
_ECOS, _ESIN = np.cos(_ANG[::2]), np.sin(_ANG[::2])  # 20-gon for ellipses
_SIDES = np.array([[-1.0], [1.0]])
_ZERO2 = np.zeros(2)
# eyes: lid curves along the eye, outer corners slightly higher
_BELL9 = 1.0 - _T9 ** 2
_UP_LID = _BELL9 ** 0.7
_TILT9 = 0.02 * _SIDES * _T9
# brows: quadratic Bezier weights, thick head and thin tail
_BT = (_T9 + 1.0) / 2.0
_BZ0, _BZ1, _BZ2 = (1 - _BT) ** 2, 2 * (1 - _BT) * _BT, _BT ** 2
_BROW_HALF = 0.5 + 0.5 * np.sin(np.pi * (0.15 + 0.7 * _BT))
_BROW_HALF[0] = 0.75
_CROW_V = np.tile(np.array([-0.04, 0.0, 0.04])[:, None] * np.array([0.6, 1.6]), (2, 1))
_FOREHEAD_U = np.tile(0.3 * _T9, (2, 1))
_FOREHEAD_V = np.array([[0.1], [0.19]]) + 0.02 * _BELL9
_NOSE_WRINKLE_U = np.tile([-0.08, 0.0, 0.08], (2, 1))
_NOSE_WRINKLE_V = np.array([[0.06, 0.08, 0.06], [0.105, 0.125, 0.105]])
# mouth: lip shapes along the mouth, with the cupid's bow of the upper lip
_T13SQ = _T13 ** 2
_BELL13 = 1.0 - _T13SQ
_BELL13_07 = _BELL13 ** 0.7
_UPPER_LIP = (0.35 + 0.65 * _BELL13 ** 0.5) * (1.0 - 0.35 * np.exp(-(_T13 / 0.15) ** 2))
_LOWER_LIP = 0.3 + 0.7 * _BELL13 ** 0.6
_TEETH = np.r_[2:11, 15:24]  # the teeth span the middle of the mouth
# hair, neck
_HAIR_ANG = np.linspace(np.pi + 0.5, 2 * np.pi - 0.5, 15)
_HAIR_COS, _HAIR_SIN = np.cos(_HAIR_ANG), np.sin(_HAIR_ANG)
_HAIRLINE_U = np.linspace(1.0, -1.0, 11)
_HAIRLINE_SHAPE = np.abs(_HAIRLINE_U) ** 2.5
_FRINGE = 0.04 * (np.arange(11) % 2)
_LONG_BACK_U = np.array([-1.18, -1.25, -1.1, 1.1, 1.25, 1.18])
_LONG_BACK_V = np.array([-0.5, 0.9, 1.35, 1.35, 0.9, -0.5])
_LONG_SIDE_U = np.array([0.86, 0.92, 1.04, 1.14, 1.12, 0.98])
_LONG_SIDE_V = np.array([-0.55, 0.0, 0.7, 0.85, 0.0, -0.6])
_NECK_U = np.array([-0.44, -0.47, -0.56, 0.56, 0.47, 0.44])
_NECK_V = np.array([0.55, 1.15, 1.6, 1.6, 1.15, 0.55])


def _shade(color, k: float) -> tuple:
    """``color`` scaled by ``k`` (darker below 1), clipped to [0, 255]."""
    return (min(255.0, color[0] * k), min(255.0, color[1] * k), min(255.0, color[2] * k))


def _mix(c1, c2, w: float) -> tuple:
    """(1 - w) * c1 + w * c2."""
    return tuple((1.0 - w) * x + w * y for x, y in zip(c1, c2))


class _Pen:
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
        """A filled polygon through the points (u, v)."""
        self.ops.append((0, color, self._add(u, v, dz), 0))

    def line(self, u, v, color, thickness, dz=0.0):
        """An open polyline through (u, v), ``thickness`` in canvas pixels."""
        self.ops.append((1, color, self._add(u, v, dz), max(1, int(round(thickness)))))

    def ellipse(self, u, v, au, bv, color, dz=0.0, tilt=0.0):
        """A filled ellipse centred at (u, v) with semi-axes (au, bv).

        As a polygon in face units, so pose foreshortens it like the rest;
        ``u`` may be ``_SIDES * x`` for a left-right pair. ``tilt`` shears
        it (dv/du).
        """
        du = au * _ECOS
        self.poly(u + du, v + bv * _ESIN + tilt * du, color, dz)

    def finish(self, img):
        """Map every recorded point to pixels at once, then draw in order."""
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
                cv2.fillPoly(img, outlines, color, _LINE)
            else:
                cv2.polylines(img, outlines, False, color, thickness, _LINE)


def _shrink(img: np.ndarray, factor: int) -> np.ndarray:
    """Average ``factor`` x ``factor`` blocks: the anti-aliasing step.

    Same result as ``cv2.resize(..., interpolation=cv2.INTER_AREA)``; for a
    power of two, repeated halving with INTER_LINEAR (which at exactly half
    size averages 2 x 2 blocks) is about three times faster.
    """
    while factor % 2 == 0:
        img = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_LINEAR)
        factor //= 2
    if factor > 1:
        img = cv2.resize(img, (img.shape[1] // factor, img.shape[0] // factor), interpolation=cv2.INTER_AREA)
    return img


@functools.lru_cache(maxsize=64)
def _background(top: tuple, bottom: tuple, side: int) -> np.ndarray:
    """The scene: a vertical gradient from ``top`` to ``bottom`` (cached per identity)."""
    ramp = np.linspace(0.0, 1.0, side)[:, None, None]
    col = np.rint(np.asarray(top) + ramp * (np.asarray(bottom) - np.asarray(top))).astype(np.uint8)
    img = cv2.resize(col, (side, side), interpolation=cv2.INTER_NEAREST)  # repeat the column
    img.flags.writeable = False  # shared between calls; draw_face copies it
    return img


def draw_face(identity: Identity, aus: dict[str, float], mouth_open: float = 0.0,
              yaw: float = 0.0, roll: float = 0.0, light: float = 1.0, size: int = 64) -> np.ndarray:
    """Draw one frame of a face showing the given action units.

    Parameters
    ----------
    identity : Identity
        The person (see ``random_identity``).
    aus : dict of str to float
        Action-unit intensities in [0, 1], e.g. ``{"AU6": 0.8, "AU12": 0.8}``
        for a smile; missing units are relaxed (0). Known units are the keys
        of ``ACTION_UNITS``. How each one changes the drawing follows the
        FACS descriptions (Ekman & Friesen 1978): AU1 raises the inner ends
        of the brows, AU2 the outer ends; AU4 lowers the brows and pulls them
        together (with vertical furrows between them); AU5 raises the upper
        lids (more white above the iris); AU6 raises the cheeks, pushing the
        lower lids up (crow's feet, deeper nasolabial folds); AU7 tightens
        and raises the lower lids; AU9 wrinkles the nose and lifts the upper
        lip; AU12 pulls the lip corners up and out; AU15 pulls them down;
        AU16 lowers the lower lip; AU20 stretches the lips sideways; AU23
        presses the lips thin; AU26 drops the jaw.
    mouth_open : float in [0, 1], default 0
        Jaw opening from speech, added on top of the expression.
    yaw, roll : float in [-0.8, 0.8], default 0
        Head turn about the vertical axis and tilt in the picture plane, in
        radians (a frontal face detector copes with about +-0.3).
    light : float in [0, 4], default 1
        Overall brightness factor of the scene (1 = as drawn).
    size : int, default 64
        Output width and height in pixels.

    Returns
    -------
    numpy.ndarray
        RGB image, uint8, shape (size, size, 3).

    Raises
    ------
    ValueError
        For an unknown action unit or a value out of its range.

    Examples
    --------
    >>> person = random_identity(np.random.default_rng(1))
    >>> img = draw_face(person, AU_PROTOTYPES["happy"])
    >>> img.shape, img.dtype
    ((64, 64, 3), dtype('uint8'))
    """
    au = _check_aus(aus)
    g = au.get
    au1, au2, au4, au5, au6 = g("AU1", 0.0), g("AU2", 0.0), g("AU4", 0.0), g("AU5", 0.0), g("AU6", 0.0)
    au7, au9, au12, au15, au16 = g("AU7", 0.0), g("AU9", 0.0), g("AU12", 0.0), g("AU15", 0.0), g("AU16", 0.0)
    au20, au23, au26 = g("AU20", 0.0), g("AU23", 0.0), g("AU26", 0.0)
    mouth_open = _check_range("mouth_open", mouth_open, 0.0, 1.0)
    yaw = _check_range("yaw", yaw, -0.8, 0.8)
    roll = _check_range("roll", roll, -0.8, 0.8)
    light = _check_range("light", light, 0.0, 4.0)
    size = int(_check_range("size", size, 8, 2048))
    ident = identity
    skin, hair, lips, ratio = ident.skin, ident.hair, ident.lips, ident.face_ratio
    sides = _SIDES  # (2, 1): -1 = the face's right (picture left), +1 = its left

    S = size * _SUPERSAMPLE
    px = S / 64.0  # one output pixel of a 64-pixel image, in canvas pixels
    img = _background(tuple(ident.background_top), tuple(ident.background_bottom), S).copy()

    b = ident.face_height * S           # face half-height in canvas pixels
    pen = _Pen(0.5 * S, 0.47 * S, b * ratio, b, yaw, roll)

    # Total mouth opening: speech plus jaw drop (AU26); a broad smile parts
    # the lips a little, and so does the lower-lip depressor (AU16).
    opening = min(0.75 * mouth_open + 0.85 * au26 + 0.2 * au12 + 0.15 * au16, 1.2)
    chin_drop = 0.1 * opening           # the jaw, and with it the chin, moves down

    # --- shoulders, neck, hair behind the head, ears ------------------------
    pen.ellipse(0.0, 2.05, 2.3, 0.75, ident.clothes, dz=-0.6)
    if ident.hair_style == "long":
        pen.poly(_LONG_BACK_U, _LONG_BACK_V, _shade(hair, 0.8), dz=-0.9)
    pen.poly(_NECK_U, _NECK_V, _shade(skin, 0.8), dz=-0.5)
    pen.ellipse(0.0, 1.0 + chin_drop, 0.5, 0.22, _shade(skin, 0.62), dz=-0.5)  # shadow under the chin
    if ident.hair_style != "cropped":
        pen.ellipse(0.0, -0.22, 1.17, 1.0, _shade(hair, 0.85), dz=-0.75)
    pen.ellipse(sides * 0.99, 0.0, 0.14, 0.2, _shade(skin, 0.8), dz=-0.78)      # ears

    # --- the face: a dark contour and lighter layers towards the key light --
    ls = ident.light_side
    fu = _COS * (1.0 - (1.0 - ident.jaw) * _SIN_POS ** 2)          # narrower jaw
    fv = _SIN * (1.0 + chin_drop * _SIN_POS)                        # chin drops
    pen.poly(fu, fv, _shade(skin, 0.8), dz=-0.75)
    pen.poly(0.93 * fu + 0.03 * ls, 0.95 * fv - 0.02, _shade(skin, 0.91), dz=-0.5)
    pen.poly(0.8 * fu + 0.07 * ls, 0.86 * fv - 0.05, skin, dz=-0.3)

    ev, es = ident.eye_height, ident.eye_spacing
    # cheeks: a faint warm highlight that AU6 (cheek raiser) lifts
    cheek = _mix(_shade(skin, 1.04), lips, 0.12 + 0.1 * au6)
    pen.ellipse(sides * 0.5, 0.32 - 0.12 * au6, 0.2, 0.13, cheek)

    # --- eyes (both at once: arrays of shape (2, n)) -------------------------
    ew = 0.25 * ident.eye_size                                    # half-width (u)
    # AU5 raises the upper lid; AU6 (cheeks) and AU7 (lid tightener) push the
    # lower lid up and straighten it, narrowing the eye from below.
    up_h = max(0.085 * ident.eye_open * (1.0 + 0.75 * au5 - 0.25 * au6 - 0.12 * au7), 0.02)
    lo_h = max(0.06 * ident.eye_open * (1.0 - 0.6 * au6 - 0.55 * au7), 0.008)
    lo_pow = 1.0 + 1.5 * max(au6, au7)
    ex = sides * es
    pen.ellipse(ex, ev - 0.025, ew * 1.45, 0.17, _shade(skin, 0.78))                # socket shadow
    x = ex + ew * _T9
    upper = ev - up_h * _UP_LID - _TILT9
    lower = ev + lo_h * _BELL9 ** lo_pow - _TILT9
    pen.poly(np.concatenate([x, x[:, ::-1]], axis=1), np.concatenate([upper, lower[:, ::-1]], axis=1),
             (236, 232, 226))
    # iris and pupil, clipped to the eye opening by clamping their outlines
    for r, color in ((0.1, ident.iris), (0.045, (15, 12, 12))):
        bell = np.maximum(1.0 - ((r / ratio / ew) * _ECOS) ** 2, 0.0)  # lid curves at the outline's u
        tilt = (0.02 * r / ratio / ew) * sides * _ECOS
        iv = np.minimum(np.maximum(ev + 0.005 + r * _ESIN, ev - up_h * bell ** 0.7 - tilt),
                        ev + lo_h * bell ** lo_pow - tilt)
        pen.poly(ex + (r / ratio) * _ECOS, iv, color)
    # upper lid line with lashes, the lid crease above it, the lower lid
    pen.line(x, upper - 0.008, _shade(ident.brow, 0.45), 1.1 * px)
    pen.line(np.concatenate([x[:, 1:-1], x[:, 1:-1]]),
             np.concatenate([upper[:, 1:-1] - 0.045 - 0.02 * au5, lower[:, 1:-1] + 0.01]),
             _shade(skin, 0.65), 0.5 * px)
    if au6 > 0.05:  # crow's feet at the outer corners
        cu = np.repeat(sides * (es + ew * np.array([1.05, 1.35])), 3, axis=0)     # (6, 2)
        pen.line(cu, ev + _CROW_V, _shade(skin, 1.0 - 0.3 * au6), 0.5 * px)

    # --- brows: a tapered quadratic Bezier from the inner to the outer end ---
    bv = ev - ident.brow_gap
    bt = ident.brow_thickness * (1.0 + 0.25 * au4)          # AU4 bunches the brows
    # AU1 lifts the inner ends, AU2 the outer ones; AU4 lowers the brows and
    # pulls the inner ends together and down; AU9 lowers them a little.
    inner_u = sides * (es - ew - 0.02 - 0.07 * au4)
    mid_u = sides * (es + 0.02 - 0.03 * au4)
    outer_u = sides * (es + ew + 0.1)
    inner_v = bv + 0.02 - ident.brow_slant - 0.14 * au1 + 0.1 * au4 + 0.04 * au9
    mid_v = bv - 0.04 - 0.05 * au1 - 0.08 * au2 + 0.05 * au4 + 0.03 * au9
    outer_v = bv + 0.01 - 0.12 * au2 + 0.04 * au4 + 0.02 * au9
    u = _BZ0 * inner_u + _BZ1 * mid_u + _BZ2 * outer_u
    v = np.tile(_BZ0 * inner_v + _BZ1 * mid_v + _BZ2 * outer_v, (2, 1))   # same heights on both sides
    half = bt * _BROW_HALF
    pen.poly(np.concatenate([u, u[:, ::-1]], axis=1), np.concatenate([v - half, (v + half)[:, ::-1]], axis=1),
             ident.brow)
    if au4 > 0.05:  # vertical furrows between the brows
        pen.line(sides * np.array([0.06, 0.05]), np.broadcast_to(np.array([bv - 0.02, bv + 0.12]), (2, 2)),
                 _shade(skin, 1.0 - 0.3 * au4), 0.6 * px)
    if max(au1, au2) > 0.05:  # horizontal lines across the forehead
        pen.line(_FOREHEAD_U, bv - _FOREHEAD_V, _shade(skin, 1.0 - 0.22 * max(au1, au2)), 0.5 * px)

    # --- nose ---------------------------------------------------------------
    nw = ident.nose_width * (1.0 + 0.15 * au9)
    nv = ident.nose_length - 0.03 * au9                # AU9 pulls the wings up
    pen.line(sides * np.array([0.09, 0.1, nw - 0.02]),
             np.broadcast_to(np.array([ev + 0.02, nv - 0.12, nv - 0.03]), (2, 3)), _shade(skin, 0.86), px, dz=0.1)
    pen.ellipse(sides * (nw - 0.035), nv - 0.01, 0.06, 0.055, _shade(skin, 0.8), dz=0.15)    # wings
    pen.ellipse(0.0, nv - 0.035, 0.08, 0.06, _shade(skin, 1.07), dz=0.3)                   # tip highlight
    pen.line(_ZERO2, np.array([ev - 0.05, nv - 0.12]), _shade(skin, 1.06), px, dz=0.2)     # bridge highlight
    pen.ellipse(0.0, nv + 0.035, nw * 0.8, 0.03, _shade(skin, 0.72), dz=0.15)            # shadow under it
    pen.ellipse(sides * 0.055, nv + 0.012, 0.04, 0.022, _shade(skin, 0.35), dz=0.25, tilt=sides * 0.3)  # nostril
    if au9 > 0.05:  # wrinkles across the bridge
        pen.line(_NOSE_WRINKLE_U, ev + _NOSE_WRINKLE_V, _shade(skin, 1.0 - 0.35 * au9), 0.6 * px, dz=0.2)

    # --- mouth --------------------------------------------------------------
    # AU12 pulls the corners up and out, AU15 down, AU20 stretches the lips
    # sideways, AU23 presses them thin, AU16 lowers the lower lip, AU9 lifts
    # the upper one.
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
    mu = mw * _T13
    mu2 = np.concatenate([mu, mu[::-1]])
    # nasolabial folds, from the nose wings past the mouth corners, deeper
    # when the cheeks rise (AU6, AU12) or the nose wrinkles (AU9)
    fold = max(au12, au6, 0.7 * au9)
    pen.line(sides * np.array([nw + 0.03, nw + 0.12 + 0.05 * fold, mw + 0.07]),
             np.broadcast_to(np.array([nv - 0.02, (nv + line_v[-1]) / 2.0, line_v[-1] + 0.07]), (2, 3)),
             _shade(skin, 0.9 - 0.22 * fold), (0.6 + 0.6 * fold) * px)
    if op > 0.004:  # the opening, then the teeth in it
        pen.poly(mu2, np.concatenate([up_in, lo_in[::-1]]), (70, 22, 28))
        teeth_lo = np.minimum(up_in + 0.06, lo_in)
        pen.poly(mu2[_TEETH], np.concatenate([up_in, teeth_lo[::-1]])[_TEETH], (232, 228, 218))
        if au16 > 0.2 or au20 > 0.2:  # the lower teeth show too
            teeth_hi = np.maximum(lo_in - 0.035, up_in)
            pen.poly(mu2[_TEETH], np.concatenate([teeth_hi, lo_in[::-1]])[_TEETH], (215, 210, 200))
    pen.poly(mu2, np.concatenate([up_out, up_in[::-1]]), _shade(lips, 0.85))
    pen.poly(mu2, np.concatenate([lo_in, lo_out[::-1]]), lips)
    pen.line(mu, (up_in + lo_in) / 2.0 if op <= 0.004 else up_in, _shade(lips, 0.45), 0.8 * px)
    # shadows below the lower lip and in the mouth corners
    pen.ellipse(np.array([[0.0], [-mw - 0.01], [mw + 0.01]]),
                np.array([[lo_out[6] + 0.06], [line_v[-1]], [line_v[-1]]]),
                np.array([[0.14], [0.035], [0.035]]), np.array([[0.035], [0.025], [0.025]]), _shade(skin, 0.78))

    # --- hair in front: from temple to temple over the top, down to the hairline
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
             _mix(hair, skin, 0.35) if cropped else hair, dz=-0.4)
    if style == "long":  # strands down the sides of the face
        pen.poly(sides * _LONG_SIDE_U, np.broadcast_to(_LONG_SIDE_V, (2, 6)), hair, dz=-0.7)

    pen.finish(img)
    out = _shrink(img, _SUPERSAMPLE)
    if light != 1.0:
        out = cv2.convertScaleAbs(out, alpha=float(light))
    return out


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
