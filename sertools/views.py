"""Views of a corpus: labeled, unlabeled, validation and test sets as tensors.

The label budget (``n_labeled`` clips per class, drawn with the run's seed
from the in-domain training pool) decides which clips a method may learn
labels from; everything else it sees comes without labels. Features are
normalised with statistics of the training pool only. Validation and test
speakers are disjoint from the training speakers (the corpus guarantees it,
``check_disjoint`` verifies it).

A ``Split`` keeps its sequences zero-padded in one tensor, so a batch is one
indexing operation, cut to the longest clip in the batch.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .audio import group_normalise, normalisation_stats, pad_batch
from .core import Padded


@dataclass
class Split:
    """One view: inputs, labels (-1 where unknown) and optional extras.

    x : (N, T, F) float, zero-padded feature sequences, or one input per
        clip without a time axis, e.g. (N, F) vectors
    y : (N,) long, class index or -1
    lengths : (N,) long, real frames of each sequence; None for inputs
        without a time axis
    face : (N, C) float, the face teacher's clip distribution (a NaN row
        where the clip has no face), or None
    rows : (N,) row indices into the corpus table
    """
    x: torch.Tensor
    y: torch.Tensor
    lengths: torch.Tensor | None = None
    face: torch.Tensor | None = None
    rows: np.ndarray | None = None

    def __len__(self):
        return len(self.y)

    @classmethod
    def from_sequences(cls, seqs, y, rows=None) -> "Split":
        """A split from N (T_i, F) tensors, zero-padded into x (N, max T_i, F), with labels ``y`` (N,)."""
        p = pad_batch(list(seqs)) if len(seqs) else Padded(torch.zeros(0, 1, 1), torch.zeros(0, 1, dtype=torch.bool))
        return cls(p.x, torch.as_tensor(y, dtype=torch.long), p.mask.sum(1), rows=rows)

    def inputs(self, idx, crop: int = 0, generator: torch.Generator | None = None) -> Padded | torch.Tensor:
        """The model inputs of rows ``idx``: a ``Padded`` batch, or a plain tensor.

        With ``crop`` > 0 (frames), a clip longer than that is cut to a window of
        ``crop`` frames at a random start, uniform over the clip, drawn from
        ``generator`` (CPU); shorter clips stay whole. Inputs without a time
        axis are never cut.
        """
        idx = torch.as_tensor(idx)
        if self.lengths is None:
            return self.x[idx]
        lens = self.lengths[idx]
        T = int(lens.max()) if len(lens) else 1
        if not crop or T <= crop:
            return Padded(self.x[idx, :T], torch.arange(T, device=lens.device)[None, :] < lens[:, None])
        room = (lens.cpu() - crop).clamp_min(0) + 1             # possible starts of each clip's window
        start = (torch.rand(len(lens), generator=generator) * room).long().to(lens.device)
        t = start[:, None] + torch.arange(crop, device=lens.device)[None, :]
        return Padded(self.x[idx[:, None], t], torch.arange(crop, device=lens.device)[None, :] < lens[:, None])

    def to(self, device) -> "Split":
        """The same split with its tensors on ``device`` (itself if already there)."""
        if self.x.device == torch.device(device):
            return self
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return Split(move(self.x), move(self.y), move(self.lengths), move(self.face), self.rows)

    def batches(self, batch_size: int = 256):
        """All rows in order, in batches: (inputs, labels)."""
        for i in range(0, len(self), batch_size):
            idx = torch.arange(i, min(i + batch_size, len(self)), device=self.y.device)
            yield self.inputs(idx), self.y[idx]


@dataclass
class Views:
    """The four splits of a semi-supervised run and what describes them.

    labeled, unlabeled, val, test : ``Split``s (unlabeled.y holds the hidden
        true labels, only for logging pseudo-label accuracy; -1 where unknown)
    classes : class names; n_in : features per frame (or per vector)
    meta : the corpus name, the labeled count, the normalisation statistics
    test_b : the target-domain test (held-out speakers of the unlabeled
        pool's domain, the built-in corpus's ``test_b``), or None
    """
    labeled: Split
    unlabeled: Split
    val: Split
    test: Split
    classes: tuple
    n_in: int
    meta: dict = field(default_factory=dict)
    test_b: Split | None = None

    @property
    def n_classes(self) -> int:
        """Number of classes, ``len(classes)``."""
        return len(self.classes)

    def to(self, device) -> "Views":
        """The views with every split on ``device`` (a GPU holds a whole corpus's
        features easily, so a batch is then an index into device memory)."""
        splits = {k: getattr(self, k).to(device) for k in ("labeled", "unlabeled", "val", "test")}
        test_b = None if self.test_b is None else self.test_b.to(device)
        if all(splits[k] is getattr(self, k) for k in splits) and test_b is self.test_b:
            return self
        return Views(**splits, classes=self.classes, n_in=self.n_in, meta=self.meta, test_b=test_b)


def pick_labeled(labels: np.ndarray, n_per_class: int, seed: int) -> np.ndarray:
    """Positions of ``n_per_class`` clips of each class (all, where fewer exist)."""
    rng = np.random.default_rng([seed, 17])
    out = []
    for c in np.unique(labels[labels >= 0]):
        pos = np.flatnonzero(labels == c)
        out.append(rng.choice(pos, min(n_per_class, len(pos)), replace=False))
    return np.sort(np.concatenate(out)) if out else np.zeros(0, int)


def check_disjoint(clips) -> None:
    """Raise if a speaker of val, test or test_b also appears in train or
    unlabeled, or in another of the three."""
    t = clips.table
    seen = set(t.speaker[t.split.isin(["train", "unlabeled"])])
    for s in ("val", "test", "test_b"):
        here = set(t.speaker[t.split == s])
        both = seen & here
        if both:
            raise ValueError(f"speakers {sorted(both)[:5]} are in both {s} and a split before it (train, unlabeled, "
                             f"val, test): splits must be speaker-disjoint")
        seen |= here


def normalise(speakers, feats: list[torch.Tensor], norm: str = "pool", track_norm: str | None = None,
              n_tracks: int = 0) -> list[torch.Tensor]:
    """Per-clip or per-speaker normalisation (``sertools.audio.group_normalise``)
    of the spectral bins with ``norm`` and of the last ``n_tracks`` columns
    (the pitch tracks) with ``track_norm`` (None: like the spectrum);
    ``speakers`` holds one speaker id per clip of ``feats``."""
    track_norm = norm if track_norm in (None, "same") else track_norm
    groups = np.asarray(speakers) if "speaker" in (norm, track_norm) else None
    if n_tracks == 0 or track_norm == norm:
        return group_normalise(feats, norm, groups)
    spec = group_normalise([f[:, :-n_tracks] for f in feats], norm, groups)
    tr = group_normalise([f[:, -n_tracks:] for f in feats], track_norm, groups)
    return [torch.cat([a, b], 1) for a, b in zip(spec, tr)]


def make_views(clips, feats: list[torch.Tensor], n_labeled: int, seed: int = 0, norm: str = "pool",
               track_norm: str | None = None, n_tracks: int = 0, copies: list | None = None) -> Views:
    """Split a corpus's features into the four views of a semi-supervised run.

    Parameters
    ----------
    clips : ``Clips``; feats : one (T_i, F) tensor per clip (``corpus_features``)
    n_labeled : label budget, clips per class from the training pool
    seed : which clips get labels (each seed a different labeled subset)
    norm, track_norm, n_tracks : per-clip or per-speaker normalisation before
        the training pool's z-score (``normalise``); ``pool`` alone is the paper's
    copies : re-recorded copies of the training pool (``audio.channel_copies``:
        one list per copy, aligned with ``clips.indices("train")``); the copies
        of the labeled clips join the labeled view as more clips with the same
        labels (multi-condition training), normalised like the originals
    """
    check_disjoint(clips)
    t = clips.table
    labels = t["label"].to_numpy()
    train = clips.indices("train")
    lab = train[pick_labeled(labels[train], n_labeled, seed)]
    unl = clips.indices("unlabeled")
    if len(unl) == 0:  # a corpus without a separate pool: the rest of the training pool
        unl = np.setdiff1d(train, lab)
    speakers = t["speaker"].to_numpy()
    group_norm = norm != "pool" or (n_tracks and track_norm not in (None, "same", "pool"))
    if group_norm:
        feats = normalise(speakers, feats, norm, track_norm, n_tracks)
    mean, std = normalisation_stats([feats[i] for i in train])
    zscore = lambda fs: [(f - mean) / std for f in fs]  # noqa: E731

    def split(idx, y):
        return Split.from_sequences(zscore([feats[i] for i in idx]), y, rows=idx)

    lab_feats, lab_rows = [feats[i] for i in lab], lab
    if copies:  # every copy of the training pool, in copy order; a copy's speaker statistics come from the copies
        pool = [f for copy in copies for f in copy]
        if group_norm:
            pool = normalise(np.tile(speakers[train], len(copies)), pool, norm, track_norm, n_tracks)
        at = {int(i): p for p, i in enumerate(train)}
        lab_feats += [pool[c * len(train) + at[int(i)]] for c in range(len(copies)) for i in lab]
        lab_rows = np.concatenate([lab] * (len(copies) + 1))

    views = Views(labeled=Split.from_sequences(zscore(lab_feats), labels[lab_rows], rows=lab_rows),
                  unlabeled=split(unl, labels[unl]),  # true labels only for logging pseudo-label accuracy
                  val=split(clips.indices("val"), labels[clips.indices("val")]),
                  test=split(clips.indices("test"), labels[clips.indices("test")]),
                  classes=tuple(clips.classes), n_in=feats[0].shape[1],
                  meta={"corpus": clips.name, "n_labeled": len(lab), "mean": mean, "std": std},
                  test_b=split(test_b, labels[test_b]) if len(test_b := clips.indices("test_b")) else None)
    if "face_label" in t:
        views.meta["unlabeled_face_label"] = t["face_label"].to_numpy()[unl]
    return views
