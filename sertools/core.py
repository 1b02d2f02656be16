"""What every stage shares: the padded batch, the run record, the device and the seed.

These few types and helpers are used from the views up to the reports, so
they live at the bottom of the kit, where any module may import them and
none has to reach downstream for them (docs/design.md, "Stages"):

- ``Padded``: a batch of variable-length feature sequences and its mask
  (the views make it, the augmentations and the models read it);
- ``RunRecord``: what a run leaves behind (the loop and the classic methods
  make it, the run store keeps it, the tables and figures read it), with
  its per-clip predictions (``prediction_frame``, ``with_clip_info``);
- ``TrainingError``: a run that had to stop, with what it had done;
- ``select_device`` and ``seed_everything``: the same for the speech loop,
  the face teacher and the classic methods.
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch

class Padded(NamedTuple):
    """A batch of variable-length feature sequences.

    x : float tensor (B, T, F), zero after each sequence's end
    mask : bool tensor (B, T), True on real frames
    """
    x: torch.Tensor
    mask: torch.Tensor

    def to(self, device, non_blocking: bool = False) -> "Padded":
        """The same batch on ``device``."""
        return Padded(self.x.to(device, non_blocking=non_blocking), self.mask.to(device, non_blocking=non_blocking))

    def __len__(self):  # the batch size, like a tensor's
        return self.x.shape[0]


def select_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA if present, then Apple's MPS, then the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (a run's initial weights, dropout)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def path_seed(tcfg) -> int:
    """The seed of a run's own randomness (initial weights, dropout, augmentation draws): ``tcfg.path_seed``,
    or the run's ``seed`` when that is None. The labeled clips and their batches follow ``seed`` alone."""
    return tcfg.seed if tcfg.path_seed is None else tcfg.path_seed


class TrainingError(RuntimeError):
    """Training had to stop (a NaN loss); ``record`` keeps what was done."""

    def __init__(self, msg, record=None):
        super().__init__(msg)
        self.record = record


def prediction_frame(split: str, y_true, probs, classes, rows=None) -> pd.DataFrame:
    """One row per clip of a held-out split, for tools outside the kit to score:
    clip_id, speaker (filled by ``with_clip_info``; until then the corpus row, or
    the position, and empty), split, true and pred (class names; true is empty
    where the label is unknown) and one probability column ``p_<class>`` per class.
    ``pred`` is the argmax of the probabilities, the prediction the metrics score."""
    probs = np.asarray(probs, float)
    y_true = np.asarray(y_true)
    rows = np.arange(len(probs)) if rows is None else np.asarray(rows)
    name = lambda i: classes[int(i)] if int(i) >= 0 else ""  # noqa: E731
    frame = pd.DataFrame({"clip_id": [str(r) for r in rows], "speaker": "", "split": split, "row": rows,
                          "true": [name(i) for i in y_true], "pred": [name(i) for i in probs.argmax(1)]})
    return pd.concat([frame, pd.DataFrame(probs, columns=[f"p_{c}" for c in classes])], axis=1)


def with_clip_info(predictions: pd.DataFrame | None, table: pd.DataFrame) -> pd.DataFrame | None:
    """``predictions`` with clip_id and speaker taken from the corpus ``table``
    (its rows, by the ``row`` column), the ``row`` column dropped."""
    if predictions is None:
        return None
    rows = predictions["row"].to_numpy()
    return predictions.assign(clip_id=table["clip_id"].to_numpy()[rows].astype(str),
                              speaker=table["speaker"].to_numpy()[rows].astype(str)).drop(columns="row")


ARRAY_FIELDS = ("y_true", "y_pred", "probs", "embeddings", "state_dict", "predictions")  # not in record.json


@dataclass
class RunRecord:
    """What a run leaves behind: enough to redraw every table and plot.

    history : one dict per evaluation (step, loss, val UA/WA, method logs)
    metrics : test WA/UA/F1/macro F1 in percent
    y_true, y_pred, probs, embeddings : per test clip
    predictions : per clip of the held-out split(s) (``prediction_frame``),
        saved as predictions.csv; None for records made before it existed
    """
    method: str
    config: dict
    history: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    y_true: np.ndarray | None = None
    y_pred: np.ndarray | None = None
    probs: np.ndarray | None = None
    embeddings: np.ndarray | None = None
    classes: tuple = ()
    seconds: float = 0.0
    state_dict: dict | None = None
    predictions: pd.DataFrame | None = None

    def save(self, path) -> Path:
        """Write ``path`` (a folder): record.json, arrays.npz, predictions.csv and
        weights.pt (each if there is one)."""
        from .cache import atomic_write, save_arrays
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        meta = {k: v for k, v in asdict(self).items() if k not in ARRAY_FIELDS}
        atomic_write(path / "record.json", lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1, default=str)))
        arrays = {k: getattr(self, k) for k in ("y_true", "y_pred", "probs", "embeddings") if getattr(self, k) is not None}
        save_arrays(path / "arrays.npz", **arrays)
        if self.predictions is not None:
            atomic_write(path / "predictions.csv", lambda tmp: self.predictions.to_csv(tmp, index=False))
        if self.state_dict is not None:
            atomic_write(path / "weights.pt", lambda tmp: torch.save(self.state_dict, tmp))
        return path

    def late_mean(self, key: str) -> float:
        """Mean of a history entry over the second half of training, NaN if the
        run never logged it (the numbers the lessons' diagnoses quote)."""
        rows = self.history[len(self.history) // 2:] or self.history
        v = np.array([h.get(key, np.nan) for h in rows], float)
        return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")

    @classmethod
    def load(cls, path) -> "RunRecord":
        """Read a record written by ``save``."""
        from .cache import load_arrays
        path = Path(path)
        meta = json.loads((path / "record.json").read_text())
        meta["classes"] = tuple(meta.get("classes", ()))
        rec = cls(**meta, **load_arrays(path / "arrays.npz"))
        if (path / "predictions.csv").exists():
            rec.predictions = pd.read_csv(path / "predictions.csv", dtype={"clip_id": str, "speaker": str,
                                                                          "true": str, "pred": str},
                                          keep_default_na=False)
        if (path / "weights.pt").exists():
            rec.state_dict = torch.load(path / "weights.pt", weights_only=True, map_location="cpu")
        return rec
