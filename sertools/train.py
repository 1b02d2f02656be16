"""The one training loop, and the run record it returns.

Every deep method trains here: draw a labeled batch (and ``mu`` unlabeled
batches), ask the method for its loss, step the optimiser, let the method
update its own state, evaluate on the validation set every ``eval_every``
steps, keep the best model in memory, and finally score it on the test set.
That is the whole loop; what differs between methods lives in
``sertools.methods``.
"""
from __future__ import annotations

import copy
import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .augment import SpecAugment, WeakAugment
from .metrics import evaluate


def select_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA if present, then Apple's MPS, then the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class TrainingError(RuntimeError):
    """Training had to stop (a NaN loss); ``record`` keeps what was done."""

    def __init__(self, msg, record=None):
        super().__init__(msg)
        self.record = record


@dataclass
class RunRecord:
    """What a run leaves behind: enough to redraw every table and plot.

    history : one dict per evaluation (step, loss, val UA/WA, method logs)
    metrics : test WA/UA/F1/macro F1 in percent
    y_true, y_pred, probs, embeddings : per test clip
    """
    method: str
    config: dict
    history: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    y_true: np.ndarray | None = None
    y_pred: np.ndarray | None = None
    probs: np.ndarray | None = None
    embeddings: np.ndarray | None = None
    classes: tuple = ()
    seconds: float = 0.0
    state_dict: dict | None = None

    def save(self, path) -> Path:
        """Write ``path`` (a folder): record.json, arrays.npz, weights.pt (if any)."""
        from .cache import atomic_write, save_arrays
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        meta = {k: v for k, v in asdict(self).items() if k not in ("y_true", "y_pred", "probs", "embeddings", "state_dict")}
        atomic_write(path / "record.json", lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1, default=str)))
        arrays = {k: getattr(self, k) for k in ("y_true", "y_pred", "probs", "embeddings") if getattr(self, k) is not None}
        save_arrays(path / "arrays.npz", **arrays)
        if self.state_dict is not None:
            atomic_write(path / "weights.pt", lambda tmp: torch.save(self.state_dict, tmp))
        return path

    @classmethod
    def load(cls, path) -> "RunRecord":
        from .cache import load_arrays
        path = Path(path)
        meta = json.loads((path / "record.json").read_text())
        meta["classes"] = tuple(meta.get("classes", ()))
        rec = cls(**meta, **load_arrays(path / "arrays.npz"))
        if (path / "weights.pt").exists():
            rec.state_dict = torch.load(path / "weights.pt", weights_only=True, map_location="cpu")
        return rec


@torch.no_grad()
def predict(model, split, device, batch_size: int = 256, embed: bool = False):
    """Probabilities (and embeddings) for every row of a view, in order."""
    model.eval()
    probs, embs = [], []
    for inputs, _ in split.batches(batch_size):
        inputs = inputs.to(device)
        if embed and hasattr(model, "embed"):
            e = model.embed(inputs)
            embs.append(e.cpu())
            logits = model.head(e)
        else:
            logits = model(inputs)
        probs.append(torch.softmax(logits.float(), -1).cpu())
    P = torch.cat(probs).numpy()
    return (P, torch.cat(embs).numpy() if embs else None) if embed else P


def _nanmean(values) -> float:
    """Mean of the finite values (NaN when there are none: no pseudo-label kept)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else float("nan")


def _cycle(n: int, batch: int, gen: torch.Generator):
    """Endless random batches of indices, each epoch a new permutation."""
    while True:
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n - batch + 1 if n >= batch else 1, batch):
            yield perm[i:i + batch]


def _batch(views, lab_idx, unl_idx, device):
    b = {"x": views.labeled.inputs(lab_idx).to(device), "y": views.labeled.y[lab_idx].to(device)}
    if unl_idx is not None:
        u = views.unlabeled
        b.update(u=u.inputs(unl_idx).to(device), u_idx=unl_idx.to(device), u_y=u.y[unl_idx].to(device))
        if u.face is not None:
            b["u_face"] = u.face[unl_idx].to(device)
    return b


def fit(method, model, views, tcfg, progress: bool = True, weak=None, strong=None) -> RunRecord:
    """Train ``model`` with ``method`` on ``views``; return the run record.

    The optimiser is AdamW with a short warm-up and cosine decay. With
    ``tcfg.ema_eval > 0`` an exponential moving average of the weights is
    evaluated (FixMatch's choice), through ``torch.optim.swa_utils``.
    """
    seed_everything(tcfg.seed)
    device = select_device(tcfg.device)
    model.to(device)
    weak = weak or WeakAugment()
    strong = strong or SpecAugment()
    steps = method.total_steps(tcfg) if hasattr(method, "total_steps") else tcfg.steps
    if method.needs_face and views.unlabeled.face is None:
        raise ValueError(f"{method.name} needs the face teacher's distributions on the unlabeled view (views.unlabeled.face)")
    use_unl = method.uses_unlabeled and len(views.unlabeled) > 0
    method.setup(model, len(views.unlabeled), views.n_classes)

    opt = torch.optim.AdamW(model.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    ema = None
    if tcfg.ema_eval > 0:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(tcfg.ema_eval), use_buffers=True)

    gen = torch.Generator().manual_seed(tcfg.seed)
    lab_it = _cycle(len(views.labeled), min(tcfg.batch_size, len(views.labeled)), gen)
    unl_it = _cycle(len(views.unlabeled), min(tcfg.batch_size * tcfg.mu, len(views.unlabeled)), gen) if use_unl else None

    record = RunRecord(method.name, {**asdict(tcfg), **{f"method.{k}": v for k, v in method.params().items()}},
                       classes=tuple(views.classes))
    best_ua, best_state, window = -1.0, None, []
    t0 = time.perf_counter()
    bar = tqdm(range(1, steps + 1), desc=method.name, disable=not progress, leave=False)
    for step in bar:
        model.train()
        batch = _batch(views, next(lab_it), next(unl_it) if unl_it else None, device)
        loss, logs = method.step(model, batch, weak, strong, (step - 1) / steps)
        if not torch.isfinite(loss):
            raise TrainingError(f"{method.name}: the loss became {loss.item()} at step {step} of {steps} "
                                f"(logs: {logs}); lower lr (now {tcfg.lr}) or lambda_u", record)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        method.after_step(model, step / steps)
        if ema is not None:
            ema.update_parameters(model)
        window.append({"loss": loss.item(), **logs})

        if step % tcfg.eval_every == 0 or step == steps:
            evaluated = ema.module if ema is not None else method.eval_model(model)
            P = predict(evaluated, views.val, device)
            val = evaluate(views.val.y.numpy(), P.argmax(1), views.n_classes)
            row = {"step": step, **{k: _nanmean([w.get(k, np.nan) for w in window]) for k in window[-1]},
                   "val_ua": val["ua"], "val_wa": val["wa"], "seconds": time.perf_counter() - t0}
            record.history.append(row)
            window = []
            if val["ua"] > best_ua:
                best_ua, best_state = val["ua"], copy.deepcopy(evaluated.state_dict())
            bar.set_postfix(loss=f"{row['loss']:.3f}", val_ua=f"{val['ua']:.1f}")

    final = copy.deepcopy(ema.module if ema is not None else method.eval_model(model))
    final.load_state_dict(best_state)
    P, E = predict(final, views.test, device, embed=True)
    record.seconds = time.perf_counter() - t0
    record.y_true, record.probs, record.embeddings = views.test.y.numpy(), P, E
    record.y_pred = P.argmax(1)
    record.metrics = evaluate(record.y_true, record.y_pred, views.n_classes) | {"best_val_ua": best_ua}
    record.state_dict = {k: v.detach().cpu() for k, v in final.state_dict().items()}
    return record
