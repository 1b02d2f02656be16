"""Each method's pieces on tiny tensors, against values computed by hand."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from sertools.methods import make_method
from sertools.methods.base import linear_rampup, pseudo_label_accuracy, sigmoid_rampup
from sertools.methods.dcmkt import sharpen, transfer_loss
from sertools.methods.fixmatch import confidence_mask
from sertools.methods.fusion import fuse_consistent, fuse_weighted
from sertools.methods.mean_teacher import ema_update
from sertools.methods.temporal_ensembling import TemporalEnsembling
from sertools.teacher import AGGREGATES, aggregate


def identity(x):
    return x


# ---------------------------------------------------------------- FixMatch mask

def test_confidence_mask_keeps_exactly_tau():
    # 0.75 and 0.25 are exact in binary, so "max prob == tau" is tested exactly
    probs = torch.tensor([[0.75, 0.25],    # max = tau   -> kept, label 0
                          [0.25, 0.75],    # max = tau   -> kept, label 1
                          [0.70, 0.30],    # max < tau   -> dropped, label 0
                          [0.10, 0.90]])   # max > tau   -> kept, label 1
    y_hat, mask = confidence_mask(probs, 0.75)
    assert y_hat.tolist() == [0, 1, 0, 1]
    assert mask.tolist() == [1.0, 1.0, 0.0, 1.0]
    assert mask.dtype.is_floating_point   # it multiplies a per-clip loss


def test_confidence_mask_at_the_published_threshold():
    probs = torch.tensor([[0.95, 0.05], [0.949, 0.051], [0.02, 0.98]])
    y_hat, mask = confidence_mask(probs, 0.95)
    assert y_hat.tolist() == [0, 0, 1]
    assert mask.tolist() == [1.0, 0.0, 1.0]


def test_fixmatch_loss_by_hand():
    # a 1-in, 2-class linear model with known weights; weak = strong = identity
    model = nn.Linear(1, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0], [-1.0]]))
        model.bias.zero_()
    x, y = torch.tensor([[0.5]]), torch.tensor([1])
    u = torch.tensor([[2.0], [0.1]])   # logits (2, -2): p = 0.982 -> kept; (0.1, -0.1): p = 0.55 -> dropped
    m = make_method("fixmatch", tau=0.95, lambda_u=2.0, specaugment=False)
    loss, logs = m.step(model, {"x": x, "y": y, "u": u, "u_y": torch.tensor([0, -1])}, identity, identity, 0.5)
    # labeled: CE of logits (0.5, -0.5) at class 1 = log(1 + e^1); unlabeled: mean over mu*B = 2 clips of
    # [CE((2, -2), 0) * 1, CE(...) * 0] = log(1 + e^-4) / 2
    expected = math.log(1 + math.e) + 2.0 * math.log(1 + math.exp(-4)) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert logs["mask_rate"] == pytest.approx(0.5)
    assert logs["pl_acc"] == pytest.approx(1.0)   # the one kept clip with a known label is right


# ------------------------------------------------------- temporal ensembling

def _te(alpha=0.6, n=3, c=2):
    te = TemporalEnsembling(te_alpha=alpha)
    te.setup(nn.Linear(2, c), n_unlabeled=n, n_classes=c)
    return te


def test_temporal_ensemble_memory_and_bias_correction():
    te = _te(0.6)
    te.update(torch.tensor([0, 1]), torch.tensor([[1.0, 0.0], [0.5, 0.5]]))
    te.update(torch.tensor([0]), torch.tensor([[0.0, 1.0]]))
    # clip 0: Z = 0.6*0 + 0.4*(1, 0) = (0.4, 0); then 0.6*(0.4, 0) + 0.4*(0, 1) = (0.24, 0.4)
    #         two updates -> target Z / (1 - 0.6^2) = (0.24, 0.4) / 0.64 = (0.375, 0.625)
    # clip 1: Z = 0.4*(0.5, 0.5) = (0.2, 0.2); one update -> (0.2, 0.2) / (1 - 0.6) = (0.5, 0.5)
    # clip 2: never updated -> no target yet
    torch.testing.assert_close(te.Z, torch.tensor([[0.24, 0.4], [0.2, 0.2], [0.0, 0.0]]))
    assert te.count.tolist() == [2, 1, 0]
    target, seen = te.targets(torch.tensor([0, 1, 2]))
    torch.testing.assert_close(target[:2], torch.tensor([[0.375, 0.625], [0.5, 0.5]]))
    assert seen.tolist() == [True, True, False]
    # bias-corrected targets of seen clips are distributions again
    torch.testing.assert_close(target[:2].sum(1), torch.ones(2))


def test_temporal_ensemble_other_alpha():
    te = _te(0.5, n=1, c=2)
    for p in ([1.0, 0.0], [1.0, 0.0], [0.0, 1.0]):
        te.update(torch.tensor([0]), torch.tensor([p]))
    # Z: (0.5, 0) -> (0.75, 0) -> (0.375, 0.5); 1 - 0.5^3 = 0.875 -> (0.428571, 0.571429)
    target, _ = te.targets(torch.tensor([0]))
    torch.testing.assert_close(target, torch.tensor([[0.375 / 0.875, 0.5 / 0.875]]))


def test_temporal_ensemble_step_leaves_out_first_seen_clips_then_pulls_to_memory():
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    te = _te(0.6, n=4)
    te.lambda_u, te.specaugment = 3.0, False
    x, y = torch.randn(2, 2), torch.tensor([0, 1])
    u, idx = torch.randn(2, 2), torch.tensor([1, 3])
    batch = {"x": x, "y": y, "u": u, "u_idx": idx, "u_y": torch.tensor([-1, -1])}
    loss, logs = te.step(model, batch, identity, identity, 1.0)
    # first sight of clips 1 and 3: no target, only the labeled term
    assert loss.item() == pytest.approx(F.cross_entropy(model(x), y).item(), rel=1e-6)
    assert logs["mask_rate"] == 0.0
    p_old = torch.softmax(model(u), -1).detach()
    with torch.no_grad():
        model.weight[0].add_(1.0)   # shifts the logit difference
    loss, logs = te.step(model, batch, identity, identity, 1.0)
    # after one update the corrected target is exactly the old prediction: Z/(1-0.6) = 0.4 p_old / 0.4
    p_new = torch.softmax(model(u), -1)
    expected = F.cross_entropy(model(x), y) + 3.0 * ((p_new - p_old) ** 2).mean(-1).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert loss.item() > F.cross_entropy(model(x), y).item() + 1e-4
    assert logs["mask_rate"] == 1.0


# ------------------------------------------------------------- mean teacher

def test_ema_update_after_known_steps():
    teacher, student = nn.Linear(1, 1), nn.Linear(1, 1)
    with torch.no_grad():
        teacher.weight.fill_(0.0), teacher.bias.fill_(0.0)
        student.weight.fill_(1.0), student.bias.fill_(2.0)
    ema_update(teacher, student, 0.9)
    # 0.9*0 + 0.1*1 = 0.1; bias 0.1*2 = 0.2
    assert teacher.weight.item() == pytest.approx(0.1)
    assert teacher.bias.item() == pytest.approx(0.2)
    ema_update(teacher, student, 0.9)
    # 0.9*0.1 + 0.1*1 = 0.19 (= 1 - 0.9^2); bias 0.9*0.2 + 0.1*2 = 0.38
    assert teacher.weight.item() == pytest.approx(0.19)
    assert teacher.bias.item() == pytest.approx(0.38)
    with torch.no_grad():
        student.weight.fill_(-1.0)
    ema_update(teacher, student, 0.5)
    # 0.5*0.19 + 0.5*(-1) = -0.405
    assert teacher.weight.item() == pytest.approx(-0.405)
    assert student.weight.item() == -1.0   # the student is never touched


def test_ema_update_averages_float_buffers_and_copies_integer_ones():
    teacher = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    student = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    with torch.no_grad():
        student[1].running_mean.fill_(1.0)
        student[1].running_var.fill_(3.0)
        student[1].num_batches_tracked.fill_(7)
    # teacher: running_mean 0, running_var 1, num_batches_tracked 0
    ema_update(teacher, student, 0.9)
    torch.testing.assert_close(teacher[1].running_mean, torch.full((3,), 0.1))
    torch.testing.assert_close(teacher[1].running_var, torch.full((3,), 0.9 * 1 + 0.1 * 3))
    assert teacher[1].num_batches_tracked.dtype == torch.long
    assert int(teacher[1].num_batches_tracked) == 7


def test_mean_teacher_method_updates_its_teacher_after_a_step():
    """The EMA warm-up of the reference implementation: decay min(1 - 1/(t + 1), beta),
    so the teacher is the plain average of the student's weights at first."""
    student = nn.Linear(1, 1)
    mt = make_method("mean_teacher", ema_decay=0.75)
    mt.setup(student, 4, 2)
    assert mt.eval_model(student) is mt.teacher and mt.teacher is not student
    w0 = student.weight.item()
    with torch.no_grad():
        student.weight.add_(4.0)                      # the student now sits at w0 + 4
    expected = [w0 + 2.0,                             # t=1: decay 1/2 -> the mean of w0 and w0 + 4
                w0 + 8.0 / 3.0,                       # t=2: decay 2/3
                w0 + 3.0,                             # t=3: decay 3/4 = beta
                w0 + 3.25]                            # t=4: min(4/5, 3/4) = beta from here on
    for t, want in enumerate(expected, 1):
        mt.after_step(student, t / 10)
        assert mt.teacher.weight.item() == pytest.approx(want), f"after step {t}"


def test_mean_teacher_decay_schedule():
    from sertools.methods.mean_teacher import ema_decay_at
    assert [ema_decay_at(t, 0.99) for t in (1, 3, 99, 100, 5000)] == pytest.approx([0.5, 0.75, 0.99, 0.99, 0.99])


# ----------------------------------------------------------------- ramp-ups

@pytest.mark.parametrize("t, expected", [
    (0.0, math.exp(-5.0)),            # exp(-5 (1 - 0)^2)
    (5.0, math.exp(-5.0 * 0.25)),     # half-way: exp(-5 * 0.5^2) = exp(-1.25) = 0.2865
    (10.0, 1.0),                      # end of the ramp
    (15.0, 1.0),                      # beyond: stays at 1
    (-1.0, math.exp(-5.0)),           # before the start: clamped
])
def test_sigmoid_rampup(t, expected):
    assert sigmoid_rampup(t, 10.0) == pytest.approx(expected)


@pytest.mark.parametrize("t, expected", [(0.0, 0.0), (5.0, 0.5), (10.0, 1.0), (15.0, 1.0), (-1.0, 0.0)])
def test_linear_rampup(t, expected):
    assert linear_rampup(t, 10.0) == pytest.approx(expected)


def test_rampups_without_length_are_full_weight():
    assert sigmoid_rampup(0.0, 0.0) == 1.0
    assert linear_rampup(0.0, 0.0) == 1.0


def test_pseudo_label_weight_follows_the_linear_ramp():
    model = nn.Linear(2, 2)
    m = make_method("pseudo_label", lambda_u=2.0, ramp=0.4)
    batch = {"x": torch.randn(2, 2), "y": torch.tensor([0, 1]), "u": torch.randn(4, 2), "u_y": torch.full((4,), -1)}
    assert m.step(model, batch, identity, identity, 0.0)[1]["w_u"] == pytest.approx(0.0)
    assert m.step(model, batch, identity, identity, 0.2)[1]["w_u"] == pytest.approx(1.0)   # 2 * 0.2/0.4
    assert m.step(model, batch, identity, identity, 0.9)[1]["w_u"] == pytest.approx(2.0)



def test_pseudo_label_loss_by_hand():
    """A 1-in, 2-class linear model with known weights, the identity as augmentation
    (so the target pass and the student pass give the same logits), tau = 0.9.
    Labeled x = 0.5, y = 1: logits (0.5, -0.5), CE = log(1 + e^1).
    Unlabeled u = 2.0: logits (2, -2), p = 0.982 >= tau: kept, target 0, CE = log(1 + e^-4);
              u = 0.1: logits (0.1, -0.1), p = 0.550 < tau: dropped (its CE, log(1 + e^-0.2), must not count);
              u = -1.5: logits (-1.5, 1.5), p = 0.953 >= tau: kept, target 1, CE = log(1 + e^-3).
    The unlabeled term is the mean over all three clips, dropped ones counting 0;
    at progress 0.2 with ramp 0.4 its weight is lambda_u * 0.5 = 1.5."""
    model = nn.Linear(1, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0], [-1.0]]))
        model.bias.zero_()
    m = make_method("pseudo_label", tau=0.9, lambda_u=3.0, ramp=0.4, specaugment=False)
    batch = {"x": torch.tensor([[0.5]]), "y": torch.tensor([1]), "u": torch.tensor([[2.0], [0.1], [-1.5]]),
             "u_y": torch.tensor([0, 0, 0])}
    loss, logs = m.step(model, batch, identity, identity, 0.2)
    loss_u = (math.log(1 + math.exp(-4)) + math.log(1 + math.exp(-3))) / 3
    assert logs["loss_u"].item() == pytest.approx(loss_u, rel=1e-5)
    assert logs["w_u"] == pytest.approx(1.5)
    assert loss.item() == pytest.approx(math.log(1 + math.e) + 1.5 * loss_u, rel=1e-5)
    assert logs["mask_rate"].item() == pytest.approx(2 / 3)
    assert logs["pl_acc"].item() == pytest.approx(0.5)    # kept targets 0 and 1 against true labels 0 and 0


# ---------------------------------------------------- pseudo-label accuracy

def test_pseudo_label_accuracy_with_keep_and_unknown_labels():
    y_hat = torch.tensor([0, 1, 1, 0, 2])
    y_true = torch.tensor([0, 1, 0, -1, 2])
    keep = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.0])
    # kept and known: positions 0, 1, 2 -> right, right, wrong -> 2/3 (3 is unknown, 4 dropped)
    assert pseudo_label_accuracy(y_hat, y_true, keep) == pytest.approx(2 / 3)
    # without a mask: known positions 0, 1, 2, 4 -> 3/4
    assert pseudo_label_accuracy(y_hat, y_true) == pytest.approx(3 / 4)
    # a boolean mask works the same
    assert pseudo_label_accuracy(y_hat, y_true, keep.bool()) == pytest.approx(2 / 3)


def test_pseudo_label_accuracy_is_nan_when_nothing_to_score():
    y_hat = torch.tensor([0, 1])
    assert math.isnan(pseudo_label_accuracy(y_hat, torch.tensor([-1, -1])))
    assert math.isnan(pseudo_label_accuracy(y_hat, torch.tensor([0, 1]), torch.zeros(2)))


# ------------------------------------------------------------------- DCMKT

def test_sharpen_by_hand():
    p = torch.tensor([[0.5, 0.25, 0.25]])
    # T = 0.5: p^2 = (0.25, 0.0625, 0.0625), sum 0.375 -> (2/3, 1/6, 1/6)
    torch.testing.assert_close(sharpen(p, 0.5), torch.tensor([[2 / 3, 1 / 6, 1 / 6]]))
    # T = 1 keeps p
    torch.testing.assert_close(sharpen(p, 1.0), p)
    # T = 2: sqrt -> (0.70711, 0.5, 0.5), sum 1.70711 -> (0.41421, 0.29289, 0.29289)
    torch.testing.assert_close(sharpen(p, 2.0), torch.tensor([[0.41421, 0.29289, 0.29289]]), atol=1e-5, rtol=0)
    # a very low temperature approaches the one-hot argmax
    torch.testing.assert_close(sharpen(p, 0.01), torch.tensor([[1.0, 0.0, 0.0]]), atol=1e-6, rtol=0)


L3 = math.log(3.0)
LOGITS = torch.tensor([[L3, 0.0],        # softmax (0.75, 0.25)
                       [100.0, -100.0],  # a clip without a face: must not count
                       [0.0, 0.0]])      # softmax (0.5, 0.5)
P_FACE = torch.tensor([[0.9, 0.1], [float("nan"), float("nan")], [0.4, 0.6]])


def test_transfer_loss_soft_skips_nan_rows():
    logits = LOGITS.clone().requires_grad_(True)
    loss, ok = transfer_loss(logits, P_FACE, soft=True, temperature=1.0)
    # row 0: -(0.9 log 0.75 + 0.1 log 0.25) = 0.9*0.287682 + 0.1*1.386294 = 0.397543
    # row 2: -(0.4 log 0.5 + 0.6 log 0.5) = log 2 = 0.693147
    # mean over the two rows with a face = 0.545345
    assert ok.tolist() == [True, False, True]
    assert loss.item() == pytest.approx((0.9 * -math.log(0.75) + 0.1 * -math.log(0.25) + math.log(2)) / 2, rel=1e-5)
    loss.backward()
    assert torch.isfinite(logits.grad).all()
    assert logits.grad[1].abs().sum() == 0   # the faceless clip gets no gradient


def test_transfer_loss_hard_uses_the_argmax():
    loss, ok = transfer_loss(LOGITS, P_FACE, soft=False, temperature=1.0)
    # row 0: argmax 0 -> -log 0.75 = 0.287682; row 2: argmax 1 -> -log 0.5 = 0.693147; mean 0.490415
    assert loss.item() == pytest.approx((-math.log(0.75) + math.log(2)) / 2, rel=1e-5)


def test_transfer_loss_sharpens_soft_targets():
    loss, _ = transfer_loss(LOGITS[:1], torch.tensor([[0.75, 0.25]]), soft=True, temperature=0.5)
    # target (0.75^2, 0.25^2) / 0.625 = (0.9, 0.1): same as row 0 above = 0.397543
    assert loss.item() == pytest.approx(0.9 * -math.log(0.75) + 0.1 * -math.log(0.25), rel=1e-5)


def test_transfer_loss_without_any_face_is_zero_and_differentiable():
    logits = torch.randn(2, 3, requires_grad=True)
    loss, ok = transfer_loss(logits, torch.full((2, 3), float("nan")), soft=True, temperature=1.0)
    assert loss.item() == 0.0 and not ok.any()
    loss.backward()
    assert torch.equal(logits.grad, torch.zeros(2, 3))


def test_dcmkt_step_uses_no_labels():
    model = nn.Linear(2, 2)
    m = make_method("dcmkt")
    u = torch.randn(3, 2)
    b1 = {"x": torch.randn(2, 2), "y": torch.tensor([0, 1]), "u": u, "u_face": P_FACE, "u_y": torch.full((3,), -1)}
    b2 = {**b1, "x": torch.randn(2, 2) * 10, "y": torch.tensor([1, 0])}
    l1, logs = m.step(model, b1, identity, identity, 0.5)
    l2, _ = m.step(model, b2, identity, identity, 0.5)
    assert l1.item() == l2.item()
    assert logs["mask_rate"] == pytest.approx(2 / 3)


# ------------------------------------------------------------------ fusion

P_S = torch.tensor([[0.9, 0.1], [0.2, 0.8]])
P_F = torch.tensor([[0.1, 0.9], [0.7, 0.3]])


def test_fuse_weighted_alpha_ends():
    y0, keep0 = fuse_weighted(P_S, P_F, alpha=0.0, tau=0.0)
    y1, keep1 = fuse_weighted(P_S, P_F, alpha=1.0, tau=0.0)
    assert y0.tolist() == P_S.argmax(1).tolist() == [0, 1]      # speech only
    assert y1.tolist() == P_F.argmax(1).tolist() == [1, 0]      # face only
    assert keep0.tolist() == keep1.tolist() == [1.0, 1.0]


def test_fuse_weighted_threshold():
    # alpha = 0.2: p = 0.2 p_f + 0.8 p_s
    # row 0: (0.02 + 0.72, 0.18 + 0.08) = (0.74, 0.26); row 1: (0.14 + 0.16, 0.06 + 0.64) = (0.30, 0.70)
    y, keep = fuse_weighted(P_S, P_F, alpha=0.2, tau=0.72)
    assert y.tolist() == [0, 1]
    assert keep.tolist() == [1.0, 0.0]       # 0.74 >= 0.72 > 0.70
    _, keep = fuse_weighted(P_S, P_F, alpha=0.2, tau=0.70)
    assert keep.tolist() == [1.0, 1.0]
    # alpha = 0.7: row 0 (0.07 + 0.27, 0.63 + 0.03) = (0.34, 0.66) -> the face wins, label 1;
    #             row 1 (0.49 + 0.06, 0.21 + 0.24) = (0.55, 0.45) -> label 0; neither reaches 0.95
    y, keep = fuse_weighted(P_S, P_F, alpha=0.7, tau=0.95)
    assert y.tolist() == [1, 0] and keep.tolist() == [0.0, 0.0]


def _consistent_case(n=2000, seed=0):
    g = torch.Generator().manual_seed(seed)
    p_s = torch.softmax(torch.randn(n, 3, generator=g) * 3, -1)
    p_f = torch.softmax(torch.randn(n, 3, generator=g) * 3, -1)
    return p_s, p_f


def test_fuse_consistent_epsilon_zero_keeps_only_agreeing_clips():
    p_s, p_f = _consistent_case()
    agree = p_s.argmax(1) == p_f.argmax(1)
    assert 0 < agree.sum() < len(agree)
    y, keep = fuse_consistent(p_s, p_f, 0.0, generator=torch.Generator().manual_seed(1))
    assert torch.equal(keep.bool(), agree)
    assert torch.equal(y[agree], p_s.argmax(1)[agree])


def test_fuse_consistent_epsilon_one_keeps_all_with_one_of_the_two_labels():
    p_s, p_f = _consistent_case()
    y_s, y_f = p_s.argmax(1), p_f.argmax(1)
    agree = y_s == y_f
    y, keep = fuse_consistent(p_s, p_f, 1.0, generator=torch.Generator().manual_seed(1))
    assert keep.tolist() == [1.0] * len(y)
    assert torch.equal(y[agree], y_s[agree])                       # agreeing: the common label
    assert ((y == y_s) | (y == y_f)).all()                         # disagreeing: one of the two
    dis = ~agree
    share_face = float((y[dis] == y_f[dis]).float().mean())
    assert 0.4 < share_face < 0.6                                  # drawn at random, about half each


def test_fuse_consistent_epsilon_half_keeps_about_half_of_disagreements():
    p_s, p_f = _consistent_case()
    agree = p_s.argmax(1) == p_f.argmax(1)
    _, keep = fuse_consistent(p_s, p_f, 0.5, generator=torch.Generator().manual_seed(2))
    assert keep[agree].all()
    assert 0.4 < float(keep[~agree].mean()) < 0.6


def test_fuse_consistent_is_repeatable_with_a_generator():
    p_s, p_f = _consistent_case()
    a = fuse_consistent(p_s, p_f, 0.5, generator=torch.Generator().manual_seed(3))
    b = fuse_consistent(p_s, p_f, 0.5, generator=torch.Generator().manual_seed(3))
    c = fuse_consistent(p_s, p_f, 0.5, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not (torch.equal(a[0], c[0]) and torch.equal(a[1], c[1]))


def test_fusion_step_leaves_out_faceless_clips():
    model = nn.Linear(2, 2)
    m = make_method("fusion_consistent", epsilon=1.0, lambda_u=1.0, specaugment=False)
    u_face = torch.tensor([[0.9, 0.1], [float("nan")] * 2, [0.2, 0.8], [float("nan")] * 2])
    batch = {"x": torch.randn(2, 2), "y": torch.tensor([0, 1]), "u": torch.randn(4, 2), "u_face": u_face,
             "u_y": torch.tensor([0, 1, 1, 0])}
    _, logs = m.step(model, batch, identity, identity, 0.5)
    assert logs["mask_rate"] == pytest.approx(0.5)    # epsilon = 1 keeps all clips that have a face
    assert logs["pl_acc_face"] == pytest.approx(1.0)  # face argmax (0, 1) on clips 0, 2 vs truth (0, 1)


# ------------------------------------------------------- teacher aggregation

# Three frames whose logits are log-probabilities, so softmax gives them back exactly.
FRAMES = torch.tensor([[0.7, 0.2, 0.1],
                       [0.2, 0.6, 0.2],
                       [0.6, 0.3, 0.1]])


@pytest.mark.parametrize("how, expected", [
    # mean of probabilities: (1.5, 1.1, 0.4) / 3
    ("mean", [0.5, 1.1 / 3, 0.4 / 3]),
    # per-class max (0.7, 0.6, 0.2), sum 1.5
    ("max", [0.7 / 1.5, 0.6 / 1.5, 0.2 / 1.5]),
    # softmax of mean logits = normalised geometric mean:
    # (0.7*0.2*0.6)^(1/3) = 0.084^(1/3) = 0.437952, (0.2*0.6*0.3)^(1/3) = 0.036^(1/3) = 0.330193,
    # (0.1*0.2*0.1)^(1/3) = 0.002^(1/3) = 0.125992; sum 0.894137
    ("logit_mean", [0.437952 / 0.894137, 0.330193 / 0.894137, 0.125992 / 0.894137]),
    # frame argmaxes 0, 1, 0 -> votes (2, 1, 0) / 3
    ("vote", [2 / 3, 1 / 3, 0.0]),
])
def test_aggregate_by_hand(how, expected):
    p = aggregate(FRAMES.log(), how)
    assert p.shape == (3,)
    torch.testing.assert_close(p, torch.tensor(expected), atol=1e-5, rtol=0)
    assert float(p.sum()) == pytest.approx(1.0, abs=1e-6)


def test_aggregate_rules_differ_on_this_case():
    out = {h: aggregate(FRAMES.log(), h) for h in AGGREGATES}
    for a in AGGREGATES:
        for b in AGGREGATES:
            if a < b:
                assert not torch.allclose(out[a], out[b], atol=1e-3), (a, b)


def test_aggregate_unknown_rule_names_the_allowed_ones():
    with pytest.raises(ValueError) as e:
        aggregate(FRAMES.log(), "median")
    msg = str(e.value)
    assert "median" in msg
    for rule in ("mean", "max", "logit_mean", "vote"):
        assert rule in msg


def test_make_method_treats_none_as_the_default():
    """A keyword None keeps the method's default, as a None in the config does."""
    assert make_method("fixmatch", tau=None).tau == make_method("fixmatch").tau == 0.95
