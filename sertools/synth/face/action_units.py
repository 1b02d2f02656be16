"""The facial action units the drawing knows, and each emotion's prototype.

This module is the one source of the action-unit definitions. The Facial
Action Coding System (FACS) of Ekman & Friesen (1978) splits every visible
facial movement into *action units* (AUs), each the work of one muscle or
muscle group: AU12 (zygomaticus major) pulls the lip corners up, AU4
(corrugator, depressor supercilii) lowers the brows and draws them together,
and so on. ``ACTION_UNITS`` lists the units drawn here with their FACS
names. An emotion is a typical *combination* of AUs, its prototype (EMFACS;
Ekman, Friesen & Hager 2002), listed in ``AU_PROTOTYPES``:

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

References
----------
Ekman, P., & Friesen, W. V. (1978). Facial Action Coding System: A technique
for the measurement of facial movement. Consulting Psychologists Press.

Ekman, P., Friesen, W. V., & Hager, J. C. (2002). Facial Action Coding
System: The manual. Research Nexus.
"""
from __future__ import annotations

from .checks import check_range

# Apex intensities of each emotion's prototype (Ekman & Friesen 1978; EMFACS).
AU_PROTOTYPES: dict[str, dict[str, float]] = {
    "neutral": {},
    "happy": {"AU6": 1.0, "AU12": 1.0},
    "sad": {"AU1": 1.0, "AU4": 1.0, "AU15": 1.0},
    "angry": {"AU4": 1.0, "AU5": 1.0, "AU7": 1.0, "AU23": 1.0},
    "surprise": {"AU1": 1.0, "AU2": 1.0, "AU5": 1.0, "AU26": 1.0},
    "fear": {"AU1": 1.0, "AU2": 1.0, "AU4": 1.0, "AU5": 1.0, "AU7": 1.0, "AU20": 1.0, "AU26": 1.0},
    "disgust": {"AU9": 1.0, "AU15": 1.0, "AU16": 1.0},
}

# The action units the drawing knows, with their FACS names.
ACTION_UNITS: dict[str, str] = {
    "AU1": "inner brow raiser",
    "AU2": "outer brow raiser",
    "AU4": "brow lowerer",
    "AU5": "upper lid raiser",
    "AU6": "cheek raiser",
    "AU7": "lid tightener",
    "AU9": "nose wrinkler",
    "AU12": "lip corner puller",
    "AU15": "lip corner depressor",
    "AU16": "lower lip depressor",
    "AU20": "lip stretcher",
    "AU23": "lip tightener",
    "AU26": "jaw drop",
}


def check_emotion(emotion: str) -> dict[str, float]:
    """The prototype of ``emotion`` (a key of ``AU_PROTOTYPES``; EMFACS).

    Returns
    -------
    dict of str to float
        The entry of ``AU_PROTOTYPES`` itself, not a copy.

    Raises
    ------
    ValueError
        For an unknown emotion, naming it and the known ones.
    """
    if emotion not in AU_PROTOTYPES:
        raise ValueError(f"unknown emotion {emotion!r}; allowed: {', '.join(AU_PROTOTYPES)}")
    return AU_PROTOTYPES[emotion]


def check_aus(aus: dict[str, float]) -> dict[str, float]:
    """Action-unit intensities checked and completed, for the drawing.

    Parameters
    ----------
    aus : dict of str to float
        Intensities in [0, 1] of units named as in ``ACTION_UNITS`` (FACS);
        values at most 1e-6 outside the range are accepted.

    Returns
    -------
    dict of str to float
        Every unit of ``ACTION_UNITS``: the given ones clipped to [0, 1],
        the missing ones relaxed (0.0).

    Raises
    ------
    ValueError
        For an unknown unit or a value out of its range.
    """
    out = dict.fromkeys(ACTION_UNITS, 0.0)
    for k, x in aus.items():
        if k not in ACTION_UNITS:
            raise ValueError(f"unknown action unit {k!r}; known: {', '.join(ACTION_UNITS)}")
        x = float(x)
        if not (-1e-6 <= x <= 1.0 + 1e-6):
            raise ValueError(f"action unit {k}={x} is out of range; allowed range is [0, 1]")
        out[k] = min(max(x, 0.0), 1.0)
    return out


def emotion_aus(emotion: str, intensity: float = 1.0) -> dict[str, float]:
    """The action units of ``emotion``'s prototype, scaled by ``intensity``.

    The prototypes are those of EMFACS (Ekman, Friesen & Hager 2002), see
    ``AU_PROTOTYPES``.

    Parameters
    ----------
    emotion : str
        A key of ``AU_PROTOTYPES``.
    intensity : float in [0, 1], default 1
        0 is a relaxed face, 1 the full prototype at its apex.

    Returns
    -------
    dict of str to float

    Raises
    ------
    ValueError
        For an unknown emotion or an intensity out of [0, 1].

    Examples
    --------
    >>> emotion_aus("happy", 0.5)
    {'AU6': 0.5, 'AU12': 0.5}
    """
    proto = check_emotion(emotion)
    intensity = check_range("intensity", intensity, 0.0, 1.0)
    return {k: v * intensity for k, v in proto.items()}
