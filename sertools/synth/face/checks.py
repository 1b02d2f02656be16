"""Argument checks shared by the face modules, so every range error reads alike."""
from __future__ import annotations

import math


def check_range(name: str, value: float, low: float, high: float = math.inf) -> float:
    """``value`` as a float, once it lies in [``low``, ``high``].

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    value : float
        The value to check; anything ``float()`` accepts.
    low, high : float
        The allowed range, both ends included; ``high`` defaults to no limit.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Naming the argument, its value and the allowed range, when the value
        is outside it or NaN.
    """
    value = float(value)
    if not (low <= value <= high):  # also rejects NaN
        hi = "inf" if high == math.inf else f"{high:g}"
        raise ValueError(f"{name}={value} is out of range; allowed range is [{low:g}, {hi}]")
    return value
