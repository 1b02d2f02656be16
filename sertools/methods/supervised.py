"""The supervised baseline: learn from the labeled clips only.

L = CE(f(a(x)), y). The augmentation ``a`` is SpecAugment when the preset's
``specaugment`` is on (the paper applies SpecAugment to its inputs), else the
weak one; the training loop passes it in as ``strong``/``weak``.
"""
from .base import Method, supervised_loss


class Supervised(Method):
    name = "supervised"
    defaults = dict(Method.defaults)
    uses_unlabeled = False

    def step(self, model, batch, weak, strong, progress):
        loss = supervised_loss(model, batch, self.labeled_aug(weak, strong))
        return loss, {}
