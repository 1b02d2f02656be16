"""Still face images with expression labels, the stand-in for FER2013 or RAF-DB.

``face_image_set`` makes the labeled set of single images that the face
teacher of cross-modal transfer learns from, as real face classifiers learn
from expression datasets such as FER2013 (Goodfellow et al. 2013) or RAF-DB
(Li, Deng & Du 2017). Expressions vary as real ones do: prototypes (EMFACS)
are often incomplete and stray action units appear (Ekman & Friesen 1978
list variants for every emotion).

References
----------
Goodfellow, I. J., et al. (2013). Challenges in representation learning: a
report on three machine learning contests. ICONIP.

Li, S., Deng, W., & Du, J. (2017). Reliable crowdsourcing and deep
locality-preserving learning for expression recognition in the wild. CVPR.
"""
from __future__ import annotations

import numpy as np

from .action_units import ACTION_UNITS, check_emotion
from .camera import add_noise, blur
from .checks import check_range
from .draw import draw_face
from .identity import random_identity
from .pose import still_pose


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
    protos = [check_emotion(e) for e in emotions]
    n = int(check_range("n", n, 0))
    n_identities = int(check_range("n_identities", n_identities, 1))
    people = [random_identity(rng) for _ in range(n_identities)]
    labels = rng.permutation(np.arange(n) % len(emotions)).astype(np.int64)
    identity = rng.permutation(np.arange(n) % n_identities).astype(np.int64)
    au_names = list(ACTION_UNITS)

    images = np.empty((n, size, size, 3), dtype=np.uint8)
    for i in range(n):
        intensity = rng.uniform(0.4, 1.0)
        # each unit at 50-115 % of the expression's intensity, or missing
        # (20 %); an expression left with none keeps one, picked at random
        scale = rng.uniform(0.5, 1.15, len(protos[labels[i]])) * (rng.random(len(protos[labels[i]])) >= 0.2)
        if scale.size and not scale.any():
            scale[rng.integers(scale.size)] = 1.0
        aus = {k: min(1.0, v * intensity * c) for (k, v), c in zip(protos[labels[i]].items(), scale)}
        if rng.random() < 0.3:  # a stray weak movement: faces are never perfectly still
            k = au_names[rng.integers(len(au_names))]
            aus[k] = min(1.0, aus.get(k, 0.0) + rng.uniform(0.0, 0.25))
        mouth_open = rng.uniform(0.0, 0.3) * (rng.random() < 0.5)  # lips sometimes slightly parted
        img = draw_face(people[identity[i]], aus, mouth_open=mouth_open, **still_pose(rng), size=size)
        images[i] = blur(img, rng.uniform(0.0, 1.0))
    images = add_noise(images, 4.0, rng)
    return images, labels, identity
