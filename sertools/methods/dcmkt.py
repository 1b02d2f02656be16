"""Direct cross-modal knowledge transfer (Albanie et al. 2018, "Emotion
recognition in speech using cross-modal transfer in the wild").

A face-expression teacher labels the frames of each unlabeled video; its
frame predictions are aggregated into one distribution per clip (see
``sertools.teacher``), and the speech student learns to predict that
distribution from the voice alone. No labeled speech is used: the student
can only be as right as the faces are about the voices, and faces and
voices do not always agree (the paper's first observation).

    soft targets:  L = mean_u H(sharpen(p_face, T), softmax(f(a(u))))
    hard targets:  L = mean_u CE(f(a(u)), argmax p_face)

``dcmkt_finetune`` spends the last ``finetune_steps`` of the same step
budget on the labeled clips (the paper's "DCMKT + fine-tuning"): transfer
for ``steps - finetune_steps`` steps, then supervised fine-tuning, so it
trains exactly as long as every other method and is evaluated on the same
schedule. (Before this rule it trained ``steps + finetune_steps`` steps, and
its lead in the table was partly the extra training.)
Clips whose video has no face (NaN rows) are left out.
"""
import torch
import torch.nn.functional as F

from .base import Method, pseudo_label_accuracy, supervised_loss


def sharpen(p: torch.Tensor, temperature: float) -> torch.Tensor:
    """p^(1/T), renormalised: T < 1 sharpens, T > 1 smooths, T = 1 keeps p."""
    q = p.clamp_min(1e-8) ** (1.0 / temperature)
    return q / q.sum(-1, keepdim=True)


def transfer_loss(logits, p_face, soft: bool, temperature: float):
    """Cross-entropy to the teacher's clip distributions; NaN rows are skipped."""
    ok = torch.isfinite(p_face).all(-1)
    if not ok.any():
        return logits.sum() * 0.0, ok
    logits, p_face = logits[ok], p_face[ok]
    if soft:
        loss = -(sharpen(p_face, temperature) * F.log_softmax(logits, -1)).sum(-1).mean()
    else:
        loss = F.cross_entropy(logits, p_face.argmax(-1))
    return loss, ok


class DCMKT(Method):
    """Direct cross-modal knowledge transfer (Albanie et al. 2018): the speech
    model learns the face teacher's clip distributions, with no labeled speech.

    Rule: soft targets, H(sharpen(p_face, T), softmax(f(a(u)))), or hard ones,
    CE(f(a(u)), argmax p_face), averaged over the unlabeled clips with a face.
    Knobs: ``soft_targets`` (True), ``temperature`` (1.0); ``specaugment``
    is inherited but unused here (there is no labeled term).
    """
    name = "dcmkt"
    defaults = {**Method.defaults, "soft_targets": True, "temperature": 1.0}
    needs_face = True

    def step(self, model, batch, weak, strong, progress):
        """Transfer loss of a weak pass on ``batch["u"]`` against ``batch["u_face"]`` (mu B, C).

        NaN rows of ``u_face`` (no face) are skipped. Logs: mask_rate
        (share of clips with a face), pl_acc (the face's argmax against
        ``batch["u_y"]``, on clips with a face).
        """
        loss, ok = transfer_loss(model(weak(batch["u"])), batch["u_face"], self.soft_targets, self.temperature)
        y_face = torch.nan_to_num(batch["u_face"]).argmax(-1)
        return loss, {"mask_rate": ok.float().mean(), "pl_acc": pseudo_label_accuracy(y_face, batch["u_y"], ok)}


class DCMKTFinetune(DCMKT):
    """DCMKT, then fine-tuning on the labeled clips (the paper's "DCMKT + fine-tuning"), in one step budget.

    Rule: the first ``steps - finetune_steps`` steps are DCMKT steps, the
    last ``finetune_steps`` use L = L_s. Knobs: ``finetune_steps`` (150; the
    quick and full presets set their own), ``soft_targets``, ``temperature``,
    ``specaugment`` (the fine-tuning term's augmentation).
    """
    name = "dcmkt_finetune"
    defaults = {**DCMKT.defaults, "finetune_steps": 150}

    def setup(self, model, n_unlabeled, n_classes, steps=None):
        """Transfer for the first ``steps - finetune_steps`` steps, then fine-tune."""
        if steps is None:
            raise ValueError("dcmkt_finetune needs the run's step budget: call setup(model, n_unlabeled, n_classes, "
                             "steps) (train.fit passes tcfg.steps)")
        if not 0 <= self.finetune_steps < steps:
            raise ValueError(f"finetune_steps={self.finetune_steps} must be in [0, steps={steps}): dcmkt_finetune "
                             f"spends the last finetune_steps of the common step budget on the labeled clips")
        self.switch_step = steps - self.finetune_steps
        self.steps = steps

    def step(self, model, batch, weak, strong, progress):
        """A DCMKT step for steps 1 to ``switch_step``, a supervised step (L_s, log ``finetune`` = 1) after."""
        if round(progress * self.steps) < self.switch_step:  # progress = (step - 1) / steps
            return super().step(model, batch, weak, strong, progress)
        return supervised_loss(model, batch, self.labeled_aug(weak, strong)), {"finetune": 1.0}
