"""Pseudo-Label (Lee 2013, "Pseudo-Label: the simple and efficient
semi-supervised learning method for deep neural networks").

The model labels the unlabeled clips itself: the class it currently finds
most likely becomes a target, and it is trained on it like a true label.
This pushes decision boundaries away from dense regions (entropy
minimisation), but every wrong pseudo-label is learned too: with very few
labels the model can confirm its own mistakes (confirmation bias).

    q = softmax(f(a(u))) (a pass without gradient),  y_hat = argmax q
    L = CE(f(a(x)), y) + lambda_u * w(t) * mean[ 1(max q >= tau) * CE(f(a'(u)), y_hat) ]

The target comes from its own pass without gradient, and the student from a
second pass with fresh augmentation noise and dropout (a, a' are two draws
of the weak augmentation), as the paper's form treats the pseudo-label as a
fixed target. Taking both from one pass would make a kept clip's loss at
most -log(tau), with almost no gradient, so the unlabeled term would barely
act.

Defaults (published -> here): Lee used no threshold and a slow ramp (0 until
epoch 100, linear to 3 at epoch 600); we use the common modern form of USB
(Wang et al. 2022): tau = 0.95, lambda_u = 1, linear ramp over the first 40 %.
"""
import torch
import torch.nn.functional as F

from .base import Method, linear_rampup, pseudo_label_accuracy, supervised_loss


class PseudoLabel(Method):
    """Pseudo-Label (Lee 2013), in the thresholded form of USB (Wang et al. 2022).

    Rule: the argmax of a no-gradient pass on a(u) is the target of a second
    pass on a'(u), kept where its probability >= ``tau``; weight ``lambda_u``
    times a linear ramp over the first ``ramp`` of training. Knobs: ``tau``
    (0.95), ``lambda_u`` (1.0), ``ramp`` (0.4), ``specaugment``.
    """
    name = "pseudo_label"
    defaults = {**Method.defaults, "tau": 0.95, "lambda_u": 1.0, "ramp": 0.4}

    def step(self, model, batch, weak, strong, progress):
        """L_s plus the weighted pseudo-label CE of the unlabeled batch ``batch["u"]`` (mu B clips).

        The mean runs over the whole unlabeled batch, a clip below ``tau``
        counting 0. Logs: w_u, loss_u, mask_rate (share kept), pl_acc (kept
        pseudo-labels equal to ``batch["u_y"]``).
        """
        loss_x = supervised_loss(model, batch, self.labeled_aug(weak, strong))
        with torch.no_grad():                              # the target: its own pass, no gradient
            conf, y_hat = torch.softmax(model(weak(batch["u"])), -1).max(-1)
        keep = (conf >= self.tau).float()
        logits_u = model(weak(batch["u"]))                 # the student: a second, independently noised pass
        loss_u = (F.cross_entropy(logits_u, y_hat, reduction="none") * keep).mean()
        w = self.lambda_u * linear_rampup(progress, self.ramp)
        return loss_x + w * loss_u, {"w_u": w, "loss_u": loss_u.detach(), "mask_rate": keep.mean(),
                                     "pl_acc": pseudo_label_accuracy(y_hat, batch["u_y"], keep)}
