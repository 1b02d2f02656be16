"""Temporal Ensembling (Laine & Aila 2017).

Instead of a second pass, the target of each unlabeled clip is the running
average of the model's own past predictions for it: an ensemble over
training time, cheaper and less noisy than the Pi-model's single second pass.

    after the model predicts p_i for clip i:  Z_i <- alpha Z_i + (1 - alpha) p_i
    target z~_i = Z_i / (1 - alpha^e_i)       (bias correction, e_i = updates so far)
    L = CE(f(a(x_b)), y_b) + lambda_u * w(t) * mean ||p_i - z~_i||^2 / C

The paper updates Z once per epoch with every sample's prediction of that
epoch; with random batches we update each clip's entry whenever the clip is
drawn, and count its updates e_i separately, which gives the same bias
correction. A clip seen for the first time has no target yet and is left
out. Defaults (published -> here): alpha = 0.6; w_max = 30 with a sigmoid
ramp over 80 epochs -> lambda_u = 10, sigmoid ramp over 40 % of training.
"""
import torch

from .base import Method, pseudo_label_accuracy, sigmoid_rampup, supervised_loss


class TemporalEnsembling(Method):
    name = "temporal_ensembling"
    defaults = {**Method.defaults, "lambda_u": 10.0, "ramp": 0.4, "te_alpha": 0.6}

    def setup(self, model, n_unlabeled, n_classes, steps=None):
        device = next(model.parameters()).device
        self.Z = torch.zeros(n_unlabeled, n_classes, device=device)   # ensemble memory
        self.count = torch.zeros(n_unlabeled, device=device)           # updates per clip

    def targets(self, idx):
        """Bias-corrected ensemble targets of clips ``idx`` and whether they exist yet."""
        seen = self.count[idx] > 0
        corr = 1.0 - self.te_alpha ** self.count[idx].clamp_min(1)
        return self.Z[idx] / corr[:, None], seen

    def update(self, idx, probs):
        self.Z[idx] = self.te_alpha * self.Z[idx] + (1 - self.te_alpha) * probs
        self.count[idx] += 1

    def step(self, model, batch, weak, strong, progress):
        loss_x = supervised_loss(model, batch, self.labeled_aug(weak, strong))
        idx = batch["u_idx"]
        logits = model(weak(batch["u"]))
        target, seen = self.targets(idx)
        per_clip = ((torch.softmax(logits, -1) - target) ** 2).mean(-1)
        loss_u = (per_clip * seen).sum() / max(1, len(idx))
        self.update(idx, torch.softmax(logits.detach(), -1))
        w = self.lambda_u * sigmoid_rampup(progress, self.ramp)
        return loss_x + w * loss_u, {"w_u": w, "loss_u": loss_u.detach(), "mask_rate": seen.float().mean(),
                                     "pl_acc": pseudo_label_accuracy(target.argmax(-1), batch["u_y"], seen)}
