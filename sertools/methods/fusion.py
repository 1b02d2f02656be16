"""The paper's method: fuse the face teacher's pseudo-label with the speech
model's own (KBS 2021, "Combining cross-modal knowledge transfer and
semi-supervised learning for speech emotion recognition").

Each step, for each unlabeled clip: p_s = softmax(f(a(u))), the speech
model's prediction on the weak view (no gradient), and p_f, the face
teacher's clip distribution (fixed, computed once). The two views are fused
into one hard pseudo-label, which supervises the strong view as in FixMatch:

    L = CE(f(a(x)), y) + lambda_u * w(t) * (1 / N) sum_u keep * CE(f(A(u)), y_hat)

N, the normaliser, is FixMatch's: the whole unlabeled batch, mu B clips
(``u_norm="batch"``, the default), so a step that keeps few clips has a
small unlabeled term. ``u_norm="kept"`` divides by the number of kept
clips instead (each kept clip weighs the same whatever the mask rate).

- ``fusion_weighted``: p = alpha p_f + (1 - alpha) p_s; y_hat = argmax p;
  keep if max p >= tau. alpha = 0 is FixMatch on the clips that have a face
  (clips without one are always left out), alpha = 1 trusts the face
  alone. The paper's best alpha is 0.2. No ramp (w = 1), as in FixMatch:
  the threshold is its guard against a random early model.
- ``fusion_consistent``: y_s = argmax p_s, y_f = argmax p_f. Agreeing views
  give their label; when they disagree, with probability epsilon the clip is
  kept with a label drawn at random from {y_s, y_f}, else it is left out of
  this step. epsilon = 0 keeps only agreeing clips. The paper's best epsilon
  is 0.5. (Our reading of "multi-view consistency with a random component",
  as in docs/methods.md.) This rule has no threshold, so at the first steps,
  when the speech model is still random, it would keep disagreeing clips
  with random labels; like the Pi-model, Temporal Ensembling and Mean
  Teacher it ramps its weight up, w(t) = sigmoid ramp over the first ``ramp`` = 40 % of training
  (``ramp=0`` switches the guard off).

Early in training p_s is poor and the face carries the pseudo-labels; as
the speech model improves, its own view corrects the face where face and
voice disagree. Clips without a face (NaN rows) are left out.
"""
import torch
import torch.nn.functional as F

from .base import Method, pseudo_label_accuracy, sigmoid_rampup, supervised_loss


def fuse_weighted(p_s: torch.Tensor, p_f: torch.Tensor, alpha: float, tau: float):
    """(y_hat, keep) from the weighted sum of the two views' distributions."""
    conf, y_hat = (alpha * p_f + (1.0 - alpha) * p_s).max(-1)
    return y_hat, (conf >= tau).float()


def fuse_consistent(p_s: torch.Tensor, p_f: torch.Tensor, epsilon: float, generator=None):
    """(y_hat, keep) from the multi-view consistency rule with a random part."""
    y_s, y_f = p_s.argmax(-1), p_f.argmax(-1)
    agree = y_s == y_f
    device = generator.device if generator is not None else p_s.device  # drawn where the data is: no host round trip
    u = torch.rand(len(y_s), generator=generator, device=device).to(p_s.device)
    pick_face = torch.rand(len(y_s), generator=generator, device=device).to(p_s.device) < 0.5
    y_hat = torch.where(agree | ~pick_face, y_s, y_f)
    keep = agree | (u < epsilon)
    return y_hat, keep.float()


class _Fusion(Method):
    needs_face = True
    ramp = 0.0  # no ramp unless a rule's defaults give one (fusion_consistent)

    def fuse(self, p_s, p_f):
        raise NotImplementedError

    def step(self, model, batch, weak, strong, progress):
        loss_x = supervised_loss(model, batch, self.labeled_aug(weak, strong))
        p_f = batch["u_face"]
        has_face = torch.isfinite(p_f).all(-1)
        with torch.no_grad():
            p_s = torch.softmax(model(weak(batch["u"])), -1)
        y_hat, keep = self.fuse(p_s, torch.nan_to_num(p_f))
        keep = keep * has_face
        per_clip = F.cross_entropy(model(strong(batch["u"])), y_hat, reduction="none") * keep
        loss_u = per_clip.sum() / (keep.sum().clamp_min(1.0) if self.u_norm == "kept" else len(keep))
        w = self.lambda_u * sigmoid_rampup(progress, self.ramp)
        y_true = batch["u_y"]
        return loss_x + w * loss_u, {
            "w_u": w, "loss_u": loss_u.detach(), "mask_rate": keep.mean(),
            "pl_acc": pseudo_label_accuracy(y_hat, y_true, keep),
            "pl_acc_speech": pseudo_label_accuracy(p_s.argmax(-1), y_true),
            "pl_acc_face": pseudo_label_accuracy(torch.nan_to_num(p_f).argmax(-1), y_true, has_face)}


class FusionWeighted(_Fusion):
    """Weighted fusion (Zhang et al. 2021, the paper): p = alpha p_f + (1 - alpha) p_s.

    Rule: y_hat = argmax p, kept where max p >= ``tau`` and the clip has a
    face; CE(f(A(u)), y_hat) with weight ``lambda_u``, no ramp. Knobs:
    ``alpha`` (0.2), ``tau`` (0.95), ``lambda_u`` (1.0), ``u_norm``
    ("batch" or "kept"), ``specaugment``.
    """
    name = "fusion_weighted"
    defaults = {**Method.defaults, "alpha": 0.2, "tau": 0.95, "lambda_u": 1.0, "u_norm": "batch"}

    def fuse(self, p_s, p_f):
        """(y_hat, keep) from speech and face probabilities ``p_s``, ``p_f`` (mu B, C), by ``fuse_weighted``."""
        return fuse_weighted(p_s, p_f, self.alpha, self.tau)


class FusionConsistent(_Fusion):
    """Consistent fusion with a random part (Zhang et al. 2021, the paper; the kit's reading of its rule).

    Rule: a clip whose two views agree keeps their label; a disagreeing one
    is kept with probability ``epsilon``, labeled by one of the two views
    drawn at random; CE(f(A(u)), y_hat) with weight ``lambda_u`` times a
    sigmoid ramp over the first ``ramp``. Knobs: ``epsilon`` (0.5),
    ``lambda_u`` (1.0), ``ramp`` (0.4), ``u_norm``, ``specaugment``.
    """
    name = "fusion_consistent"
    defaults = {**Method.defaults, "epsilon": 0.5, "lambda_u": 1.0, "ramp": 0.4, "u_norm": "batch"}

    def fuse(self, p_s, p_f):
        """(y_hat, keep) from ``p_s``, ``p_f`` (mu B, C) by ``fuse_consistent``, with torch's default generator."""
        return fuse_consistent(p_s, p_f, self.epsilon)
