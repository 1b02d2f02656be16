"""``draw_face``: one frame of a face, drawn part by part from back to front.

Each part has its own module (``shape``, ``eyes``, ``nose``, ``mouth``,
``hair``); they record their shapes with one ``pose.Pen``, which maps them
under the head pose and draws them in order on a supersampled canvas
(``canvas``). The drawing is realistic enough that OpenCV's frontal-face
Haar cascade (Viola & Jones 2001) finds it.
"""
from __future__ import annotations

import numpy as np

from .action_units import check_aus
from .canvas import SUPERSAMPLE, background, shrink
from .checks import check_range
from .eyes import draw_brows, draw_eyes
from .hair import draw_hair
from .identity import Identity
from .mouth import draw_mouth, jaw
from .nose import draw_nose
from .pose import Pen, apply_light
from .shape import draw_body, draw_skin


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
    >>> from sertools.synth.face import AU_PROTOTYPES, random_identity
    >>> person = random_identity(np.random.default_rng(1))
    >>> img = draw_face(person, AU_PROTOTYPES["happy"])
    >>> img.shape, img.dtype
    ((64, 64, 3), dtype('uint8'))
    """
    au = check_aus(aus)
    mouth_open = check_range("mouth_open", mouth_open, 0.0, 1.0)
    yaw = check_range("yaw", yaw, -0.8, 0.8)
    roll = check_range("roll", roll, -0.8, 0.8)
    light = check_range("light", light, 0.0, 4.0)
    size = int(check_range("size", size, 8, 2048))
    ident = identity

    side = size * SUPERSAMPLE
    px = side / 64.0  # one output pixel of a 64-pixel image, in canvas pixels
    img = background(tuple(ident.background_top), tuple(ident.background_bottom), side).copy()
    b = ident.face_height * side           # face half-height in canvas pixels
    pen = Pen(0.5 * side, 0.47 * side, b * ident.face_ratio, b, yaw, roll)

    opening, chin_drop = jaw(au, mouth_open)
    draw_body(pen, ident, chin_drop)       # back to front
    draw_skin(pen, ident, au, chin_drop)
    draw_eyes(pen, ident, au, px)
    draw_brows(pen, ident, au, px)
    draw_nose(pen, ident, au, px)
    draw_mouth(pen, ident, au, opening, chin_drop, px)
    draw_hair(pen, ident)
    pen.finish(img)
    return apply_light(shrink(img, SUPERSAMPLE), light)
