"""The one interface every method implements.

A method turns a batch into a loss. It sees a model (anything that maps
inputs to logits), the batch tensors and two augmentation callables, weak
and strong; it never sees speech-specific code, so the same FixMatch trains
an image or a tabular classifier if handed one (docs/design.md).

The batch is a dict:

- ``x``, ``y``: labeled inputs and their labels
- ``u``: unlabeled inputs (``mu`` times as many as labeled)
- ``u_idx``: their positions in the unlabeled set (temporal ensembling's memory)
- ``u_y``: their true labels where known, else -1, only to *log* how good the
  pseudo-labels are; no method learns from them
- ``u_face``: the face teacher's clip distributions, for cross-modal methods

``step`` returns ``(loss, logs)``; logs are numbers or 0-d tensors the loop
averages between evaluations (the unsupervised weight and loss, the mask
rate, the pseudo-label accuracy). They may stay tensors on the device: the
loop reads them only at evaluation time, so a GPU never waits for the host
inside a step. State kept between steps (an EMA teacher, an ensemble memory)
lives on the object.

Every method gets the same step budget (``tcfg.steps``), the same labeled
batches for a seed and the same evaluation schedule: the loop, not the
method, decides those, so two rows of a table differ only by their rules.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def sigmoid_rampup(t: float, length: float) -> float:
    """exp(-5 (1 - t/length)^2), reaching 1 at ``t = length`` (Laine & Aila 2017)."""
    if length <= 0:
        return 1.0
    x = min(max(t / length, 0.0), 1.0)
    return math.exp(-5.0 * (1.0 - x) ** 2)


def linear_rampup(t: float, length: float) -> float:
    """min(t/length, 1)."""
    return 1.0 if length <= 0 else min(max(t / length, 0.0), 1.0)


def pseudo_label_accuracy(y_hat: torch.Tensor, y_true: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
    """Share of kept pseudo-labels equal to the hidden true label, a 0-d tensor
    (NaN if none is kept or known). Computed on the device, without a sync."""
    ok = y_true >= 0
    if keep is not None:
        ok = ok & keep.bool()
    return ((y_hat == y_true) & ok).sum() / ok.sum()  # 0 / 0 = NaN


class Method:
    """Base class: stores parameters (scikit-learn style), defines the hooks.

    Subclasses set ``name``, ``defaults`` (their knobs with published or
    speech-preset values) and implement ``step``. ``uses_unlabeled`` tells the
    loop whether to draw unlabeled batches; ``needs_face`` whether the batch
    must carry ``u_face``.
    """
    name = "method"
    # every method's labeled term can use SpecAugment like the baseline (the paper does)
    defaults: dict = {"specaugment": True}
    uses_unlabeled = True
    needs_face = False

    def __init__(self, **params):
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise TypeError(f"{self.name} has no parameter(s) {sorted(unknown)}; it takes {sorted(self.defaults)}")
        for k, v in self.defaults.items():
            setattr(self, k, params[k] if params.get(k) is not None else v)

    @classmethod
    def from_config(cls, tcfg) -> "Method":
        """Build from a TrainConfig: take the fields this method knows; None keeps the default."""
        return cls(**{k: getattr(tcfg, k) for k in cls.defaults if hasattr(tcfg, k)})

    def params(self) -> dict:
        """The knobs and their current values, ``{name: value}`` for every key of ``defaults``."""
        return {k: getattr(self, k) for k in self.defaults}

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.params().items())})"

    # hooks called by sertools.train.fit
    def setup(self, model, n_unlabeled: int, n_classes: int, steps: int | None = None) -> None:
        """Called once before training (allocate memories, copy a teacher);
        ``steps`` is the run's step budget, the same for every method."""

    def step(self, model, batch: dict, weak, strong, progress: float):
        """Loss of one batch at training progress ``progress`` in [0, 1]."""
        raise NotImplementedError

    def after_step(self, model, progress: float) -> None:
        """Called after each optimiser step (EMA updates)."""

    def eval_model(self, model):
        """The model to evaluate (a mean teacher evaluates its teacher)."""
        return model

    def labeled_aug(self, weak, strong):
        """The augmentation of the labeled batch: SpecAugment or the weak one."""
        return strong if self.specaugment else weak


def supervised_loss(model, batch, aug):
    """CE(f(aug(x)), y): the labeled term every method shares."""
    return F.cross_entropy(model(aug(batch["x"])), batch["y"])
