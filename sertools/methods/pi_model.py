"""Pi-model (Laine & Aila 2017, "Temporal ensembling for semi-supervised learning").

Two stochastic passes of the same clip (different augmentation noise and
dropout) should give the same prediction. No labels are needed for that, so
every clip, labeled or not, teaches the model to be stable to perturbations
that do not change the emotion.

    z1 = f(a(x)), z2 = f(a'(x))   for labeled and unlabeled x
    L = CE(f(a(x_b)), y_b) + lambda_u * w(t) * mean ||softmax(z1) - stopgrad(softmax(z2))||^2 / C

Defaults (published -> here): the paper used w_max = 100 with a sigmoid
ramp over 80 epochs (scaled by the labeled share); USB uses lambda_u = 10.
We use lambda_u = 10 and a sigmoid ramp over the first 40 % of training.
"""
import torch
import torch.nn.functional as F

from .base import Method, pseudo_label_accuracy, sigmoid_rampup


def consistency_mse(logits, target_probs):
    """Mean over the batch of the squared distance between probability vectors, / C."""
    return ((torch.softmax(logits, -1) - target_probs) ** 2).mean()


class PiModel(Method):
    """Pi-model (Laine & Aila 2017): two noisy passes of the same clip must agree.

    Rule: ||softmax(z1) - softmax(z2)||^2 / C between a pass with gradient
    and a second, no-gradient weak pass, on the labeled and the unlabeled
    batch; weight ``lambda_u`` times a sigmoid ramp over the first ``ramp``
    of training. Knobs: ``lambda_u`` (10.0), ``ramp`` (0.4), ``specaugment``.
    """
    name = "pi_model"
    defaults = {**Method.defaults, "lambda_u": 10.0, "ramp": 0.4}

    def step(self, model, batch, weak, strong, progress):
        """L_s plus the weighted consistency of ``batch["x"]`` and of ``batch["u"]``
        (each averaged over its own batch, then added).

        The first pass of the labeled clips uses the labeled augmentation
        and is also the supervised pass; every target is a weak pass without
        gradient. Logs: w_u, loss_u, mask_rate (always 1: every clip is
        used), pl_acc (argmax of the unlabeled targets against ``batch["u_y"]``).
        """
        z1_x = model(self.labeled_aug(weak, strong)(batch["x"]))  # first pass of x: also the supervised term
        z1_u = model(weak(batch["u"]))
        with torch.no_grad():                                      # second, independent passes: the targets
            p2_x = torch.softmax(model(weak(batch["x"])), -1)
            p2 = torch.softmax(model(weak(batch["u"])), -1)
        loss_x = F.cross_entropy(z1_x, batch["y"])
        loss_c = consistency_mse(z1_x, p2_x) + consistency_mse(z1_u, p2)
        w = self.lambda_u * sigmoid_rampup(progress, self.ramp)
        return loss_x + w * loss_c, {"w_u": w, "loss_u": loss_c.detach(), "mask_rate": 1.0,
                                     "pl_acc": pseudo_label_accuracy(p2.argmax(-1), batch["u_y"])}
