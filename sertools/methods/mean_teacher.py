"""Mean Teacher (Tarvainen & Valpola 2017, "Mean teachers are better role models").

The target comes from a teacher whose weights are an exponential moving
average (EMA) of the student's: an ensemble over training time of the
weights rather than of the predictions, updated every step, so targets
improve faster than Temporal Ensembling's. The teacher is what is evaluated.

    theta' <- beta theta' + (1 - beta) theta      after every step (buffers too)
    L = CE(f_theta(a(x_b)), y_b) + lambda_u * w(t) * mean ||softmax(f_theta(a(u))) - softmax(f_theta'(a'(u)))||^2 / C

Defaults (published -> here): beta = 0.99 during ramp-up, 0.999 after; MSE
weight up to 100 (CIFAR) with a sigmoid ramp. Our runs are a few hundred
steps, where beta = 0.999 would leave the teacher almost at its random start
(its memory is about 1 / (1 - beta) = 1000 steps), so we keep beta =
``ema_decay`` = 0.99 throughout; lambda_u = 10, sigmoid ramp over 40 %.
"""
import copy

import torch

from .base import Method, pseudo_label_accuracy, sigmoid_rampup, supervised_loss
from .pi_model import consistency_mse


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
    name = "mean_teacher"
    defaults = {**Method.defaults, "lambda_u": 10.0, "ramp": 0.4, "ema_decay": 0.99}

    def setup(self, model, n_unlabeled, n_classes):
        self.teacher = copy.deepcopy(model)
        for p in self.teacher.parameters():
            p.requires_grad_(False)

    def step(self, model, batch, weak, strong, progress):
        loss_x = supervised_loss(model, batch, self.labeled_aug(weak, strong))
        logits = model(weak(batch["u"]))
        self.teacher.train(model.training)  # the teacher is noisy too (dropout)
        with torch.no_grad():
            p_t = torch.softmax(self.teacher(weak(batch["u"])), -1)
        w = self.lambda_u * sigmoid_rampup(progress, self.ramp)
        return loss_x + w * consistency_mse(logits, p_t), {
            "w_u": w, "mask_rate": 1.0, "pl_acc": pseudo_label_accuracy(p_t.argmax(-1), batch["u_y"])}

    def after_step(self, model, progress):
        ema_update(self.teacher, model, self.ema_decay)

    def eval_model(self, model):
        return self.teacher
