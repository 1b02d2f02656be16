"""The one container every corpus produces: ``Clips``.

A method never knows where its data came from (docs/design.md): the built-in
simulation (``sertools.synth``) and the adapters for real corpora on disk
(``sertools.corpora``) both return a ``Clips``.

Fields
------
waves : list of float32 arrays, mono, at ``sr`` Hz, one per clip (any length)
frames : list with, per clip, a uint8 array (n_frames, H, W, 3) RGB of face
    crops, or None when the clip has no video; or None for an audio-only corpus
table : pandas.DataFrame, one row per clip, with at least the columns
    ``clip_id`` (str), ``split`` ("train", "unlabeled", "val", "test", and
    optionally "test_b" and "excluded"),
    ``speaker`` (str), ``label`` (int class index, -1 when unknown).
    The built-in corpus adds ``face_label`` (the face's hidden emotion),
    ``intensity`` and ``domain``.
classes : tuple of class names; ``label`` indexes into it
sr : sampling rate of ``waves``
name : short name of the corpus, for tables and cache keys

Splits: ``train`` is the in-domain labeled pool (the label budget picks the
labeled clips from it), ``unlabeled`` the large pool without labels (true
labels may be present for lessons, methods never read them to learn),
``val`` and ``test`` are speaker-disjoint from everything else. ``test_b``
(optional) holds speakers of the unlabeled pool's domain who are not in the
pool: the target-domain test. ``excluded`` clips are kept in the table and
counted, but belong to no split a method reads.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# test_b: held-out speakers of the unlabeled pool's domain (the target-domain score); excluded: clips recorded but
# kept out of the class set (the built-in corpus's clips whose raters found no majority, as IEMOCAP's)
SPLITS = ("train", "unlabeled", "val", "test", "test_b", "excluded")
REQUIRED_COLUMNS = ("clip_id", "split", "speaker", "label")


@dataclass
class Clips:
    """A corpus: one wave per clip, optional face crops per clip, and a table.

    waves : list of (n_samples,) float32 arrays, mono, at ``sr`` Hz
    table : pandas.DataFrame, one row per clip, with ``clip_id``, ``split``,
        ``speaker`` and ``label`` (-1 when unknown) at least
    classes : tuple of class names; ``label`` indexes into it
    sr : sampling rate of ``waves``, Hz
    frames : per clip a uint8 array (n_frames, H, W, 3) RGB of face crops,
        or None where the clip has no video; None for an audio-only corpus
    name : short name of the corpus, for tables and cache keys
    meta : what the maker records (the built-in corpus's ``config``; an
        adapter's ``cache_key``, ``root``, ``report`` and ``dropped``)

    Creating one checks the columns, one wave (and frame stack) per row and
    the split names, and resets the table's index to 0..N-1.
    """
    waves: list
    table: pd.DataFrame
    classes: tuple
    sr: int = 16000
    frames: list | None = None
    name: str = "corpus"
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        missing = [c for c in REQUIRED_COLUMNS if c not in self.table.columns]
        if missing:
            raise ValueError(f"Clips table lacks columns {missing}; required: {list(REQUIRED_COLUMNS)}")
        if len(self.waves) != len(self.table):
            raise ValueError(f"{len(self.waves)} waves but {len(self.table)} table rows")
        if self.frames is not None and len(self.frames) != len(self.table):
            raise ValueError(f"{len(self.frames)} frame stacks but {len(self.table)} table rows")
        bad = set(self.table["split"]) - set(SPLITS)
        if bad:
            raise ValueError(f"unknown split names {sorted(bad)}; allowed: {list(SPLITS)}")
        self.table = self.table.reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.table)

    @property
    def n_classes(self) -> int:
        """Number of classes, ``len(classes)``."""
        return len(self.classes)

    @property
    def has_video(self) -> bool:
        """True when at least one clip has face crops."""
        return self.frames is not None and any(f is not None for f in self.frames)

    def indices(self, split: str) -> np.ndarray:
        """Row indices of one split."""
        return np.flatnonzero(self.table["split"].to_numpy() == split)

    def subset(self, idx) -> "Clips":
        """A new ``Clips`` with the given rows (waves and frames are not copied)."""
        idx = np.asarray(idx)
        return Clips(
            waves=[self.waves[i] for i in idx],
            table=self.table.iloc[idx].reset_index(drop=True),
            classes=self.classes, sr=self.sr,
            frames=None if self.frames is None else [self.frames[i] for i in idx],
            name=self.name, meta=dict(self.meta),
        )

    def summary(self) -> pd.DataFrame:
        """Clips per split and class: the first table a lesson shows."""
        t = self.table.assign(cls=[self.classes[i] if i >= 0 else "?" for i in self.table["label"]])
        return pd.crosstab(t["split"], t["cls"], margins=True).reindex(
            [s for s in SPLITS if s in set(t["split"])] + ["All"])
