"""The supervised baseline: learn from the labeled clips only.

L = CE(f(a(x)), y). The augmentation ``a`` is SpecAugment when the preset's
``specaugment`` is on (the paper applies SpecAugment to its inputs), else the
weak one; the training loop passes it in as ``strong``/``weak``.
"""
from .base import Method, supervised_loss


class Supervised(Method):
    """The supervised baseline: learns from the labeled clips only.

    Rule: L = CE(f(a(x)), y), with a = SpecAugment when ``specaugment`` (the
    default) else the weak view. Knobs: ``specaugment``. It draws no
    unlabeled batches (``uses_unlabeled = False``).
    """
    name = "supervised"
    defaults = dict(Method.defaults)
    uses_unlabeled = False

    def step(self, model, batch, weak, strong, progress):
        """CE of the labeled batch, ``batch["x"]`` (B clips) against ``batch["y"]`` (B,) long; no logs."""
        loss = supervised_loss(model, batch, self.labeled_aug(weak, strong))
        return loss, {}
