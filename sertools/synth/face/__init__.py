"""Synthetic faces that show emotions through facial action units.

A face here is a drawing, but a drawing built on the way psychologists
describe real expressions: the Facial Action Coding System (FACS) of Ekman &
Friesen (1978). FACS splits every visible facial movement into *action
units* (AUs), each the work of one muscle or muscle group, and an emotion is
a typical combination of AUs, its prototype (EMFACS; Ekman, Friesen & Hager
2002). ``ACTION_UNITS`` and ``AU_PROTOTYPES`` (module ``action_units``, with
the table of what each prototype shows) are the one source of both.

``draw_face`` turns an identity (the person: face shape, skin, eyes, hair,
...; ``Identity``, ``random_identity``) and a dict of AU intensities in
[0, 1] into an RGB image. The drawing is realistic enough (eyes with whites
and irises in shaded sockets, brows, a shaded nose with nostrils, lips,
hair, neck) that OpenCV's frontal-face Haar cascade (Viola & Jones 2001)
finds it, so face detection can be taught on the same data.
``talking_video`` animates a face over a clip: the expression unfolds
(onset, apex, offset; ``expression_curve``) while the jaw opens and closes
with the loudness of the voice, syllable by syllable, whatever the emotion,
which is one reason why single frames of a talking face are noisy evidence
of its emotion. ``face_image_set`` makes a labeled set of still images, the
stand-in for face-expression datasets such as FER2013.

Only numpy and OpenCV are used. A face is drawn at ``canvas.SUPERSAMPLE``
(4) times the output size and shrunk by averaging 4 x 4 blocks
(supersampling anti-aliasing), so features a few pixels wide still read at
64 x 64. One frame takes about half a millisecond.

The modules, by what they draw or do:

============== ==========================================================
action_units   the AU table and the emotion prototypes; ``emotion_aus``
identity       ``Identity`` (one person and scene), ``random_identity``
draw           ``draw_face``: the parts below, back to front
canvas         the supersampled canvas, background, colour helpers
pose           ``Pen`` (face units to pixels under yaw and roll), light,
               random poses
shape          shoulders, neck, ears, the face outline and skin, cheeks
eyes           eyes and brows, crow's feet, forehead lines
nose           the nose
mouth          the jaw opening, lips, teeth, nasolabial folds
hair           the hair in front, in four styles
camera         blur, sensor noise, occluders
video          ``expression_curve``, ``talking_video``
images         ``face_image_set``
checks         argument checks
============== ==========================================================

References
----------
Ekman & Friesen (1978) and Ekman, Friesen & Hager (2002): see
``action_units``; FER2013 and RAF-DB: see ``images``.

Viola, P., & Jones, M. (2001). Rapid object detection using a boosted
cascade of simple features. CVPR.
"""
from __future__ import annotations

from .action_units import ACTION_UNITS, AU_PROTOTYPES, emotion_aus
from .draw import draw_face
from .identity import HAIR_STYLES, Identity, random_identity
from .images import face_image_set
from .video import expression_curve, talking_video

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
