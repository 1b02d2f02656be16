"""Mean Teacher (Tarvainen & Valpola 2017, "Mean teachers are better role models").

The target comes from a teacher whose weights are an exponential moving
average (EMA) of the student's: an ensemble over training time of the
weights rather than of the predictions, updated every step, so targets
improve faster than Temporal Ensembling's. The teacher is what is evaluated.

    theta' <- b_t theta' + (1 - b_t) theta,  b_t = min(1 - 1/(t + 1), beta)   after step t (buffers too)
    L = CE(f_theta(a(x_b)), y_b) + lambda_u * w(t) * mean ||softmax(f_theta(a(u))) - softmax(f_theta'(a'(u)))||^2 / C

The warm-up b_t = min(1 - 1/(t + 1), beta) is the reference
implementation's: for the first steps the teacher is the plain average of
the student's weights so far (b_1 = 0.5, b_2 = 2/3, ...), so it never
scores a mostly random start; from t = 1/(1 - beta) - 1 on, the decay is
beta. Defaults (published -> here): beta = 0.99 during ramp-up, 0.999
after; MSE weight up to 100 (CIFAR) with a sigmoid ramp. Our runs are a
few hundred steps, where beta = 0.999 would average over about 1000 steps,
longer than the run, so we keep beta = ``ema_decay`` = 0.99 throughout;
lambda_u = 10, sigmoid ramp over 40 %.
"""
import copy

import torch

from .base import Method, pseudo_label_accuracy, sigmoid_rampup, supervised_loss
from .pi_model import consistency_mse


def ema_decay_at(step: int, beta: float) -> float:
    """The decay after optimiser step ``step`` (1, 2, ...): min(1 - 1/(step + 1), beta)."""
    return min(1.0 - 1.0 / (step + 1), beta)


@torch.no_grad()
def ema_update(teacher, student, beta: float) -> None:
    """theta' <- beta theta' + (1 - beta) theta, for parameters and float buffers."""
    for t, s in zip(teacher.parameters(), student.parameters()):
        t.lerp_(s, 1.0 - beta)
    for t, s in zip(teacher.buffers(), student.buffers()):
        if t.dtype.is_floating_point:
            t.lerp_(s, 1.0 - beta)
        else:
            t.copy_(s)


class MeanTeacher(Method):
    """Mean Teacher (Tarvainen & Valpola 2017): consistency with an EMA teacher of the
    student's weights; knobs lambda_u (10), ramp (0.4), ema_decay (0.99). The teacher is evaluated."""
    name = "mean_teacher"
    defaults = {**Method.defaults, "lambda_u": 10.0, "ramp": 0.4, "ema_decay": 0.99}

    def setup(self, model, n_unlabeled, n_classes, steps=None):
        """The teacher starts as a frozen copy of the student."""
        self.updates = 0
        self.teacher = copy.deepcopy(model)
        for p in self.teacher.parameters():
            p.requires_grad_(False)

    def step(self, model, batch, weak, strong, progress):
        """Labeled CE + ramped MSE between the student's and the teacher's softmax on two noised views of u."""
        loss_x = supervised_loss(model, batch, self.labeled_aug(weak, strong))
        logits = model(weak(batch["u"]))
        self.teacher.train(model.training)  # the teacher is noisy too (dropout)
        with torch.no_grad():
            p_t = torch.softmax(self.teacher(weak(batch["u"])), -1)
        w = self.lambda_u * sigmoid_rampup(progress, self.ramp)
        loss_u = consistency_mse(logits, p_t)
        return loss_x + w * loss_u, {
            "w_u": w, "loss_u": loss_u.detach(), "mask_rate": 1.0,
            "pl_acc": pseudo_label_accuracy(p_t.argmax(-1), batch["u_y"])}

    def after_step(self, model, progress):
        """Move the teacher towards the student (``ema_update`` with the warm-up ``ema_decay_at``)."""
        self.updates += 1
        ema_update(self.teacher, model, ema_decay_at(self.updates, self.ema_decay))

    def eval_model(self, model):
        """The teacher, not the student, is validated and tested."""
        return self.teacher
