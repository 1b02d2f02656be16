"""Every method on a non-speech toy: scikit-learn's two moons and a small MLP.

The methods know nothing about speech (docs/design.md), so each must train a
2 -> 32 -> 32 -> 2 MLP on two moons through the same ``fit`` loop, and the
ones that use unlabeled data must beat the supervised baseline trained on
the same 8 labels, split and seed.

Set-up, and why (measured over 8 seeds, see the numbers below):

- 4 labels per class, spread along each moon (the points nearest to evenly
  spaced arc angles, jittered by the seed). With labels drawn uniformly at
  random, one moon's tip is often unlabeled, the supervised boundary cuts
  through that tip, and no method here can move a boundary along a
  uniformly dense arm (no density gradient to follow): every SSL method then
  stays within about two points of supervised (~80 % UA, 4 seeds measured). Spread labels anchor the
  arms, and what is left to learn is where the gap between the moons is,
  which is what the unlabeled data tells.
- weak view: Gaussian noise std 0.07; strong view: std 0.2 (raw units, the
  moons' gap is about 0.3 wide). With 0.05 / 0.15 (lr 1e-2, the default
  ramp, 600 steps) temporal ensembling and mean teacher gained under a point
  on average: the perturbation was too small to push the boundary.
- 1000 steps, AdamW lr 3e-3, ramp = 0 (full unsupervised weight at once; the
  ramp-up changed little here), batch 8 labeled + 8 x 8 unlabeled.
- the face teacher of the cross-modal methods is a synthetic "second view":
  for each unlabeled point it puts 0.9 on the true class with probability
  0.8 and on the wrong one otherwise (independent of the point), and a few
  rows are NaN (clips without a face).

Test UA (%) over seeds 0-7 with exactly this set-up (``moons_views(seed)``,
``toy_config(seed)``, ``mlp(seed)``), and the mean wall time of one run on
the shared 2-core CPU (load average about 12 while measuring):

                        seed 0    1    2    3    4    5    6    7   mean  vs supervised
    supervised          94.3 95.7 88.5 93.4 89.1 92.7 92.2 95.0   92.6
    pseudo_label        94.5 95.3 88.1 93.6 92.0 95.3 90.2 95.7   93.1  5/8 above, min -2.0
    pi_model            98.2 98.6 93.1 98.0 94.9 98.2 97.8 98.2   97.1  8/8, min +2.9
    temporal_ensembling 96.3 98.6 94.5 98.4 95.5 98.6 97.8 98.6   97.3  8/8, min +2.0
    mean_teacher        96.7 99.0 96.4 97.3 95.7 98.4 96.8 98.5   97.3  8/8, min +2.4
    fixmatch            99.2 98.8 95.7 99.0 98.8 98.6 98.6 98.6   98.4  8/8, min +3.1
    dcmkt               99.2 99.0 99.0 99.6 99.2 99.8 99.2 98.4   99.2  (no labels; chance 50)
    dcmkt_finetune      99.2 98.8 99.2 99.6 98.4 99.8 99.2 98.8   99.1  8/8, min +3.1
    fusion_consistent   99.2 99.8 99.0 98.4 99.4 99.8 99.4 99.2   99.3  8/8, min +4.1
    fusion_weighted     99.4 98.8 95.7 98.6 98.6 98.6 98.0 98.6   98.3  8/8, min +3.1

(2.3-4.1 s per run.) dcmkt does so well because the synthetic face noise is
independent of the point, so the student averages it away: an easier second
view than real faces, which disagree with voices systematically.

The test runs seed 0 only (time) and asks for a margin of one point.
Pseudo-label is the exception: Lee's rule trains each unlabeled point on its
own current argmax (one pass, no perturbation between target and
prediction), which reinforces the supervised boundary rather than moving it
(its pseudo-label accuracy stays where supervised left it, about 92-95 %), so
on this toy it only matches supervised; that test checks it matches and that
its pseudo-labels were in use. This is the method's nature (the confirmation
bias the lessons show), not a fault of the implementation.
"""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons
from torch import nn

from sertools.config import get_config
from sertools.methods import METHODS, make_method
from sertools.train import fit
from sertools.views import Split, Views

SEED = 0
MARGIN = 1.0     # UA points a method must gain over supervised
SSL = ["pseudo_label", "pi_model", "temporal_ensembling", "mean_teacher", "fixmatch"]
CROSS_MODAL = ["dcmkt", "dcmkt_finetune", "fusion_consistent", "fusion_weighted"]


def arc_angle(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each point's angle along its own moon, 0..pi (make_moons' parametrisation)."""
    upper = np.arctan2(X[:, 1], X[:, 0])                 # (cos t, sin t)
    lower = np.arctan2(0.5 - X[:, 1], 1.0 - X[:, 0])     # (1 - cos t, 0.5 - sin t)
    return np.where(y == 0, upper, lower)


def moons_views(seed: int = SEED, n_per_class: int = 4, n_pool: int = 200, n_unl: int = 500,
                n_val: int = 100, n_test: int = 500, face_acc: float = 0.8, n_no_face: int = 10) -> Views:
    X, y = make_moons(n_samples=n_pool + n_unl + n_val + n_test, noise=0.1, random_state=0)
    rng = np.random.default_rng(seed)
    angle = arc_angle(X, y)
    lab = []
    for c in (0, 1):
        pos = np.flatnonzero(y[:n_pool] == c)
        targets = (np.arange(n_per_class) + 0.5) / n_per_class * np.pi + rng.uniform(-0.1, 0.1, n_per_class)
        lab.append([pos[np.argmin(np.abs(angle[pos] - t))] for t in targets])
    lab = np.concatenate(lab)
    unl = np.arange(n_pool, n_pool + n_unl)
    val = np.arange(n_pool + n_unl, n_pool + n_unl + n_val)
    test = np.arange(n_pool + n_unl + n_val, len(y))
    X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y)

    right = torch.as_tensor(rng.random(n_unl) < face_acc)
    face_label = torch.where(right, y[unl], 1 - y[unl])
    face = torch.full((n_unl, 2), 0.1)
    face[torch.arange(n_unl), face_label] = 0.9
    face[:n_no_face] = float("nan")

    def split(i):
        return Split(x=X[i], y=y[i])

    unlabeled = split(unl)
    unlabeled.face = face
    return Views(labeled=split(lab), unlabeled=unlabeled, val=split(val), test=split(test),
                 classes=("a", "b"), n_in=2)


def mlp(seed: int = SEED) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))


def weak(x):
    return x + 0.07 * torch.randn_like(x)


def strong(x):
    return x + 0.2 * torch.randn_like(x)


def toy_config(seed: int = SEED, steps: int = 1000):
    return get_config("quick", steps=steps, eval_every=50, batch_size=8, mu=8, lr=3e-3, ramp=0.0,
                      finetune_steps=100, specaugment=False, device="cpu", seed=seed)[1]


@pytest.fixture(scope="module")
def views():
    return moons_views()


@pytest.fixture(scope="module")
def records(views):
    """One seeded run of every method on the same views (about 10-30 s in all)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # a tiny MLP: threads only add overhead on a shared machine
    try:
        out = {}
        for name in METHODS:
            tcfg = toy_config()
            t0 = time.perf_counter()
            out[name] = fit(make_method(name, tcfg), mlp(), views, tcfg, progress=False, weak=weak, strong=strong)
            out[name].wall = time.perf_counter() - t0
    finally:
        torch.set_num_threads(threads)
    print("\n" + "\n".join(f"  {n:20s} UA {r.metrics['ua']:5.1f}  ({r.wall:.1f} s)" for n, r in out.items()))
    return out


def _ua(records, name):
    return records[name].metrics["ua"]


def test_toy_views_are_as_described(views):
    assert views.labeled.lengths is None and views.labeled.x.shape == (8, 2)
    assert sorted(views.labeled.y.tolist()) == [0, 0, 0, 0, 1, 1, 1, 1]
    assert views.unlabeled.face.shape == (500, 2)
    have = torch.isfinite(views.unlabeled.face).all(1)
    assert int((~have).sum()) == 10
    face_acc = float((views.unlabeled.face[have].argmax(1) == views.unlabeled.y[have]).float().mean())
    assert 0.75 < face_acc < 0.85     # informative but noisy


def test_supervised_learns_something_but_not_everything(records):
    ua = _ua(records, "supervised")
    assert 75.0 < ua < 98.0, f"supervised UA {ua:.1f}: the toy leaves no room (or nothing was learned)"


@pytest.mark.parametrize("name", [n for n in SSL if n != "pseudo_label"] + ["fusion_consistent", "fusion_weighted",
                                                                           "dcmkt_finetune"])
def test_method_beats_supervised(records, name):
    ua, sup = _ua(records, name), _ua(records, "supervised")
    assert ua >= sup + MARGIN, f"{name}: UA {ua:.1f} vs supervised {sup:.1f} on the same split and seed"


def test_pseudo_label_matches_supervised_and_uses_its_labels(records):
    """See the module docstring: measured 5/8 seeds above supervised, mean +0.5, worst -2.0."""
    ua, sup = _ua(records, "pseudo_label"), _ua(records, "supervised")
    assert ua >= sup - 1.5, f"pseudo_label: UA {ua:.1f} fell below supervised {sup:.1f}"
    last = records["pseudo_label"].history[-1]
    assert last["mask_rate"] > 0.5 and last["w_u"] == pytest.approx(1.0)
    assert last["pl_acc"] > 0.85


def test_dcmkt_without_labels_beats_chance(records):
    ua = _ua(records, "dcmkt")
    assert ua > 75.0, f"dcmkt: UA {ua:.1f}, chance is 50"


def test_fusion_pseudo_labels_beat_the_face_alone(records):
    """Fusing the two views gives better pseudo-labels than the face teacher
    (80 % right), once the speech view has learned something."""
    for name in ("fusion_consistent", "fusion_weighted"):
        last = records[name].history[-1]
        assert last["pl_acc_face"] == pytest.approx(0.8, abs=0.06)
        assert last["pl_acc"] > last["pl_acc_face"] + 0.05, (name, last)


def test_every_run_is_fast(records):
    slow = {n: round(r.wall, 1) for n, r in records.items() if r.wall > 15.0}
    assert not slow, f"toy runs slower than 15 s each: {slow}"
