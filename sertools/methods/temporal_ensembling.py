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
    """Temporal Ensembling (Laine & Aila 2017): a clip's target is the running
    average of the model's own past predictions for it.

    Rule: Z_i <- te_alpha Z_i + (1 - te_alpha) p_i whenever clip i is drawn;
    loss ||p_i - Z_i / (1 - te_alpha^e_i)||^2 / C on the unlabeled batch
    (clips without a target yet count 0), weight ``lambda_u`` times a sigmoid
    ramp over the first ``ramp``. Knobs: ``te_alpha`` (0.6), ``lambda_u``
    (10.0), ``ramp`` (0.4), ``specaugment``.

    State (made by ``setup``): ``Z`` (n_unlabeled, C) float, the ensemble
    memory; ``count`` (n_unlabeled,) float, the updates e_i of each clip.
    """
    name = "temporal_ensembling"
    defaults = {**Method.defaults, "lambda_u": 10.0, "ramp": 0.4, "te_alpha": 0.6}

    def setup(self, model, n_unlabeled, n_classes, steps=None):
        """Empty memory on the model's device: ``Z`` (n_unlabeled, n_classes) and ``count`` (n_unlabeled,), zeros."""
        device = next(model.parameters()).device
        self.Z = torch.zeros(n_unlabeled, n_classes, device=device)   # ensemble memory
        self.count = torch.zeros(n_unlabeled, device=device)           # updates per clip

    def targets(self, idx):
        """Bias-corrected ensemble targets of clips ``idx`` and whether they exist yet."""
        seen = self.count[idx] > 0
        corr = 1.0 - self.te_alpha ** self.count[idx].clamp_min(1)
        return self.Z[idx] / corr[:, None], seen

    def update(self, idx, probs):
        """Fold ``probs`` (len(idx), C), this step's predictions for clips ``idx``, into
        their memory, and count one update for each."""
        self.Z[idx] = self.te_alpha * self.Z[idx] + (1 - self.te_alpha) * probs
        self.count[idx] += 1

    def step(self, model, batch, weak, strong, progress):
        """L_s plus the weighted distance of a weak pass on ``batch["u"]`` to the targets of ``batch["u_idx"]``.

        The sum over the clips with a target is divided by the whole batch
        size. The memory is updated after the loss is taken, with this
        pass's detached probabilities. Logs: w_u, loss_u, mask_rate (share
        of clips with a target), pl_acc (the targets' argmax against ``batch["u_y"]``).
        """
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
