"""FixMatch (Sohn et al. 2020, "FixMatch: simplifying semi-supervised
learning with consistency and confidence").

Pseudo-labeling and consistency in one rule: the prediction on a weakly
augmented clip becomes a hard label, but only when the model is confident,
and the model must predict that label for a strongly augmented view of the
same clip. For speech the strong view is SpecAugment (Park et al. 2019), the
weak one a light perturbation, as in the paper.

    q = softmax(f(a(u))) (no gradient); y_hat = argmax q; m = 1(max q >= tau)
    L = L_s + lambda_u * (1 / (mu B)) sum m * CE(f(A(u)), y_hat),  L_s = CE(f(ã(x_b)), y_b)
    (ã: the labeled augmentation every method shares, SpecAugment by default; docs/methods.md)

Defaults (published -> here): tau = 0.95, lambda_u = 1, mu = 7, SGD with
Nesterov momentum, lr 0.03, cosine decay, an EMA of the weights (0.999) for
evaluation. Here tau = 0.95, lambda_u = 1; mu comes from the preset (2 by
default, so that a step makes 1 + 2 mu = 5 batch-sized forward passes, the
mu weak ones without gradient, instead of 15 at mu = 7); the
optimiser is the loop's AdamW; set ``ema_eval`` to evaluate an EMA.
"""
import torch
import torch.nn.functional as F

from .base import Method, pseudo_label_accuracy, supervised_loss


def confidence_mask(probs: torch.Tensor, tau: float):
    """(hard pseudo-labels, 1.0 where max prob >= tau else 0.0)."""
    conf, y_hat = probs.max(-1)
    return y_hat, (conf >= tau).float()


class FixMatch(Method):
    """FixMatch (Sohn et al. 2020): a confident prediction on the weak view is the hard label of the strong view.

    Rule: y_hat = argmax of a no-gradient pass on a(u), kept where its
    probability >= ``tau``; CE(f(A(u)), y_hat) averaged over the whole
    unlabeled batch, weight ``lambda_u``, no ramp. Knobs: ``tau`` (0.95),
    ``lambda_u`` (1.0), ``specaugment``.
    """
    name = "fixmatch"
    defaults = {**Method.defaults, "tau": 0.95, "lambda_u": 1.0}

    def step(self, model, batch, weak, strong, progress):
        """L_s plus ``lambda_u`` times the masked CE of the strong view of ``batch["u"]`` (mu B clips).

        Logs: w_u, loss_u, mask_rate (share at or above ``tau``), pl_acc
        (kept pseudo-labels equal to ``batch["u_y"]``).
        """
        loss_x = supervised_loss(model, batch, self.labeled_aug(weak, strong))
        with torch.no_grad():
            y_hat, mask = confidence_mask(torch.softmax(model(weak(batch["u"])), -1), self.tau)
        loss_u = (F.cross_entropy(model(strong(batch["u"])), y_hat, reduction="none") * mask).mean()
        return loss_x + self.lambda_u * loss_u, {
            "w_u": self.lambda_u, "loss_u": loss_u.detach(), "mask_rate": mask.mean(),
            "pl_acc": pseudo_label_accuracy(y_hat, batch["u_y"], mask)}
