"""Who the face belongs to: the ``Identity`` of a person and its random draw.

An identity fixes everything about a face that does not change with the
expression: its shape, the size and place of the features, the colouring,
the hair, and the scene behind it. The palettes and ranges are chosen by
eye so that faces vary as much as people in expression datasets do; they
are not measured from any population.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HAIR_STYLES = ("short", "long", "fringe", "cropped")

# Palettes (RGB). Skin tones run from light to dark; a random identity
# interpolates between neighbours so every tone in between occurs.
SKIN_TONES = np.array([[246, 216, 196], [232, 190, 160], [208, 158, 120],
                       [178, 124, 88], [138, 90, 62], [100, 66, 48]], dtype=np.float64)
_HAIR = np.array([[24, 20, 20], [58, 40, 30], [104, 70, 42], [196, 164, 108],
                  [146, 68, 36], [150, 148, 146]], dtype=np.float64)
_HAIR_P = np.array([0.3, 0.25, 0.18, 0.12, 0.07, 0.08])
_IRIS = np.array([[92, 58, 32], [48, 32, 22], [72, 108, 150], [82, 108, 70],
                  [118, 96, 52]], dtype=np.float64)
_IRIS_P = np.array([0.4, 0.3, 0.12, 0.08, 0.1])
_IRIS_P_DARK = np.array([0.45, 0.5, 0.0, 0.0, 0.05])  # blue and green eyes are rare with dark skin


@dataclass
class Identity:
    """One person's face and the scene around it; fixed across their clips.

    Geometry is in *face units*: horizontal positions in units of the face's
    half-width, vertical ones in units of its half-height, measured from the
    centre of the face ellipse (negative ``v`` is up). Colours are RGB in
    [0, 255].

    Attributes
    ----------
    face_height : float
        Half-height of the face as a fraction of the image size.
    face_ratio : float
        Face width / height.
    jaw : float
        Width of the lower face relative to the upper (narrower = pointed chin).
    skin : tuple of float
        Skin colour.
    eye_size : float
        Scales the width of the eyes.
    eye_open : float
        Scales how far the relaxed eyes are open.
    eye_spacing : float
        Horizontal distance of each eye centre from the midline.
    eye_height : float
        Vertical position of the eyes (``v``).
    iris : tuple of float
        Iris colour.
    brow_thickness : float
        Thickness of the eyebrows (``v`` units).
    brow_gap : float
        Distance from the eyes up to the brows (``v`` units).
    brow_slant : float
        How much higher the inner ends of the relaxed brows sit than the
        outer ends (``v`` units; negative = lower). Part of a person's
        resting face: some neutral faces look a little sad or stern.
    brow : tuple of float
        Eyebrow colour.
    nose_length : float
        Vertical position of the nostrils (``v``).
    nose_width : float
        Half-width of the nose wings (``u``).
    mouth_width : float
        Half-width of the mouth (``u``).
    mouth_height : float
        Vertical position of the mouth (``v``).
    mouth_curve : float
        Resting lip-corner position (``v`` units, positive = lower): some
        relaxed mouths turn down a little, some up.
    lip_thickness : float
        Scales both lips.
    lips : tuple of float
        Lip colour.
    hair : tuple of float
        Hair colour.
    hair_style : str
        One of ``HAIR_STYLES``: "short", "long", "fringe", "cropped".
    hairline : float
        Height of the hairline at the midline (``v``).
    background_top, background_bottom : tuple of float
        The colours of the vertical background gradient (the scene).
    clothes : tuple of float
        Colour of the shirt at the bottom of the picture.
    light_side : float
        Where the key light comes from, in [-1, 1] (left to right); moves the
        highlight of the face's shading.
    """

    face_height: float = 0.33
    face_ratio: float = 0.8
    jaw: float = 0.9
    skin: tuple = (220, 175, 140)
    eye_size: float = 1.0
    eye_open: float = 1.0
    eye_spacing: float = 0.42
    eye_height: float = -0.08
    iris: tuple = (92, 58, 32)
    brow_thickness: float = 0.05
    brow_gap: float = 0.2
    brow_slant: float = 0.0
    brow: tuple = (50, 36, 28)
    nose_length: float = 0.3
    nose_width: float = 0.16
    mouth_width: float = 0.42
    mouth_height: float = 0.56
    mouth_curve: float = 0.0
    lip_thickness: float = 1.0
    lips: tuple = (180, 100, 95)
    hair: tuple = (58, 40, 30)
    hair_style: str = "short"
    hairline: float = -0.52
    background_top: tuple = (170, 180, 190)
    background_bottom: tuple = (110, 120, 130)
    clothes: tuple = (60, 80, 120)
    light_side: float = 0.3


def _pick(rng: np.random.Generator, palette: np.ndarray, p=None) -> tuple:
    """A palette colour, a little lighter or darker, with a slight tint."""
    c = palette[rng.choice(len(palette), p=p)] * rng.uniform(0.85, 1.15) + rng.normal(0.0, 3.0, 3)
    return tuple(float(x) for x in np.clip(c, 0, 255))


def random_identity(rng: np.random.Generator) -> Identity:
    """Draw a random person (face shape, colouring, hair) and scene.

    Every field of ``Identity`` is drawn from a fixed range or palette; skin
    tone is continuous, and the hair and iris colours depend on it (light
    hair and blue or green eyes are rare with dark skin).

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness; the same generator state gives the
        same identity.

    Returns
    -------
    Identity

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> person = random_identity(rng)
    >>> person.hair_style in HAIR_STYLES
    True
    """
    t = rng.uniform(0.0, len(SKIN_TONES) - 1.0)          # continuous skin-tone scale
    i = min(int(t), len(SKIN_TONES) - 2)
    skin = SKIN_TONES[i] + (t - i) * (SKIN_TONES[i + 1] - SKIN_TONES[i]) + rng.normal(0.0, 5.0, 3)
    skin = np.clip(skin, 0, 255)
    # Lips: redder and darker than the skin.
    lips = np.clip(skin * np.array([0.82, 0.52, 0.52]) + np.array([25, 0, 5]) + rng.normal(0, 5, 3), 0, 255)
    # Light hair (blonde, red) is rare with dark skin; grey comes with age.
    hair_p = _HAIR_P.copy()
    if t > 2.5:
        hair_p[3:5] *= 0.1
    hair = _pick(rng, _HAIR, hair_p / hair_p.sum())
    # Brows follow the hair but are never lighter than a mid brown.
    brow = tuple(float(x) for x in np.minimum(np.array(hair) * 0.8, [110, 85, 65]))
    # Muted scene colours (a wall, a room), lighter or darker towards the floor.
    grey = rng.uniform(50, 215)
    bg = np.clip(grey + rng.uniform(0.1, 0.5) * (rng.uniform(0, 255, 3) - grey), 0, 255)
    bg2 = np.clip(bg * rng.uniform(0.6, 1.25) + rng.normal(0, 8, 3), 0, 255)
    clothes = np.clip(rng.uniform(20, 220) + 0.5 * (rng.uniform(0, 255, 3) - 128), 0, 255)
    return Identity(
        face_height=rng.uniform(0.31, 0.35),
        face_ratio=rng.uniform(0.76, 0.86),
        jaw=rng.uniform(0.82, 0.98),
        skin=tuple(float(x) for x in skin),
        eye_size=rng.uniform(0.88, 1.12),
        eye_open=rng.uniform(0.85, 1.15),
        eye_spacing=rng.uniform(0.39, 0.45),
        eye_height=rng.uniform(-0.12, -0.04),
        iris=_pick(rng, _IRIS, _IRIS_P if t < 2.5 else _IRIS_P_DARK),
        brow_thickness=rng.uniform(0.04, 0.065),
        brow_gap=rng.uniform(0.18, 0.23),
        brow_slant=rng.uniform(-0.05, 0.05),
        brow=brow,
        nose_length=rng.uniform(0.27, 0.34),
        nose_width=rng.uniform(0.14, 0.19),
        mouth_width=rng.uniform(0.37, 0.46),
        mouth_height=rng.uniform(0.53, 0.6),
        mouth_curve=rng.uniform(-0.035, 0.04),
        lip_thickness=rng.uniform(0.8, 1.25),
        lips=tuple(float(x) for x in lips),
        hair=hair,
        hair_style=HAIR_STYLES[rng.choice(4, p=[0.4, 0.25, 0.2, 0.15])],
        hairline=rng.uniform(-0.6, -0.48),
        background_top=tuple(float(x) for x in bg),
        background_bottom=tuple(float(x) for x in bg2),
        clothes=tuple(float(x) for x in clothes),
        light_side=rng.uniform(-1.0, 1.0),
    )
