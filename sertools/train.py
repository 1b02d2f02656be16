"""The one training loop, and the run record it returns.

Every deep method trains here: draw a labeled batch (and ``mu`` unlabeled
batches), ask the method for its loss, step the optimiser, let the method
update its own state, evaluate on the validation set every ``eval_every``
steps, keep the best model in memory, and finally score it on the test set.
That is the whole loop; what differs between methods lives in
``sertools.methods``.
"""
from __future__ import annotations

import contextlib
import copy
import math
import time
from dataclasses import asdict

import pandas as pd
import torch
from tqdm.auto import tqdm

from .augment import SpecAugment, WeakAugment
from .core import RunRecord, TrainingError, path_seed, prediction_frame, seed_everything, select_device
from .methods.mean_teacher import ema_decay_at, ema_update
from .metrics import evaluate

WARMUP_SHARE = 0.05         # linear learning-rate warm-up over the first 5 % of the steps
GRAD_CLIP = 5.0             # gradient norm clip, every method
UNLABELED_STREAM = 2 ** 32  # offset of the unlabeled batch stream's seed from the labeled one's
CROP_STREAM = 2 ** 33       # offset of the window starts' seeds (crop_generators)


@torch.no_grad()
def predict(model, split, device, batch_size: int = 256, embed: bool = False, autocast=None):
    """Probabilities (and embeddings) for every row of a view, in order."""
    model.eval()
    probs, embs = [], []
    for inputs, _ in split.batches(batch_size):
        inputs = inputs.to(device)
        with autocast or contextlib.nullcontext():
            if embed and hasattr(model, "embed"):
                e = model.embed(inputs)
                logits = model.head(e)
                embs.append(e.float().cpu())
            else:
                logits = model(inputs)
        probs.append(torch.softmax(logits.float(), -1).cpu())
    P = torch.cat(probs).numpy()
    return (P, torch.cat(embs).numpy() if embs else None) if embed else P


def _mean_logs(window: list[dict]) -> dict:
    """Mean of each logged value over the steps since the last evaluation,
    ignoring NaN (no pseudo-label kept). Logs may be tensors on the device:
    this is where they are read, once per evaluation, not once per step."""
    out = {}
    for k in window[-1]:
        v = torch.stack([torch.as_tensor(w.get(k, float("nan")), dtype=torch.float32).cpu() for w in window])
        out[k] = float(torch.nanmean(v))
    return out


def _first_bad_step(window: list[dict], first_step: int):
    """(step, logs) of the first non-finite loss in ``window``, or None."""
    losses = torch.stack([w["loss"].float().cpu() for w in window])
    bad = (~torch.isfinite(losses)).nonzero()
    if not len(bad):
        return None
    i = int(bad[0])
    return first_step + i, {k: float(torch.as_tensor(v).float()) for k, v in window[i].items()}


def _cycle(n: int, batch: int, gen: torch.Generator):
    """Endless random batches of indices, each epoch a new permutation."""
    while True:
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n - batch + 1 if n >= batch else 1, batch):
            yield perm[i:i + batch]


def _balanced(labels: torch.Tensor, batch: int, gen: torch.Generator):
    """Endless batches of indices drawn with replacement, each clip with probability
    1 / (its class's count): every class equally often, whatever the pool's prior."""
    counts = torch.bincount(labels)
    weights = 1.0 / counts[labels].double()
    while True:
        yield torch.multinomial(weights, batch, replacement=True, generator=gen)


def batch_streams(n_labeled: int, n_unlabeled: int, tcfg, use_unlabeled: bool, labels: torch.Tensor | None = None):
    """The index streams of a run: labeled batches and (optionally) unlabeled ones.

    Each stream has its own generator seeded by the run's seed, so for the
    same seed every method draws the same labeled batches, whether or not it
    also draws unlabeled ones: differences between methods on a seed are
    paired. The unlabeled stream's generator is offset so the two differ.
    With ``tcfg.balance`` the labeled batches are class-balanced
    (``_balanced``, from the labeled clips' ``labels``): what the all-label
    ceiling uses, whose pool has the corpus's prior (neutral-heavy) while UA
    weighs every class alike; a few-label set has equal classes already.
    """
    gen = torch.Generator().manual_seed(tcfg.seed)
    lab = _balanced(labels.cpu(), min(tcfg.batch_size, n_labeled), gen) if tcfg.balance \
        else _cycle(n_labeled, min(tcfg.batch_size, n_labeled), gen)
    if not use_unlabeled:
        return lab, None
    unl = _cycle(n_unlabeled, min(tcfg.batch_size * tcfg.mu, n_unlabeled),
                 torch.Generator().manual_seed(UNLABELED_STREAM + tcfg.seed))
    return lab, unl


def crop_frames(tcfg) -> int:
    """Frames of a training window (``tcfg.crop_s`` at the hop ``tcfg.hop_ms``); 0: whole clips."""
    return round(tcfg.crop_s * 1000 / tcfg.hop_ms) if tcfg.crop_s > 0 else 0


def crop_generators(seed: int) -> tuple[torch.Generator, torch.Generator]:
    """The generators of the labeled and the unlabeled batches' window starts,
    apart from the index streams', so that for a seed every method's labeled
    windows are the same too (``batch_streams``)."""
    return (torch.Generator().manual_seed(CROP_STREAM + seed),
            torch.Generator().manual_seed(CROP_STREAM + UNLABELED_STREAM + seed))


def make_batch(views, lab_idx, unl_idx, device, crop: int = 0, generators=(None, None)) -> dict:
    """The batch dict every method's ``step`` reads (see ``methods.base``)
    from index tensors into the views' labeled and unlabeled splits; with
    ``crop`` > 0 frames, a random window of each longer clip (``Split.inputs``),
    its start drawn from the stream's generator in ``generators``."""
    non_blocking = device.type == "cuda"
    lab_idx = lab_idx.to(views.labeled.y.device, non_blocking=non_blocking)
    b = {"x": views.labeled.inputs(lab_idx, crop, generators[0]).to(device, non_blocking=non_blocking),
         "y": views.labeled.y[lab_idx].to(device, non_blocking=non_blocking)}
    if unl_idx is not None:
        u = views.unlabeled
        unl_idx = unl_idx.to(u.y.device, non_blocking=non_blocking)
        b.update(u=u.inputs(unl_idx, crop, generators[1]).to(device, non_blocking=non_blocking),
                 u_idx=unl_idx.to(device),
                 u_y=u.y[unl_idx].to(device, non_blocking=non_blocking))
        if u.face is not None:
            b["u_face"] = u.face[unl_idx].to(device, non_blocking=non_blocking)
    return b


def nan_check_every(device: torch.device, tcfg) -> int:
    """Steps between NaN checks. A check reads the loss on the host: on the CPU
    that is free, so every step is checked and a bad step never reaches the
    weights; on a GPU it would stall the queue each step, so the check waits
    for the next evaluation (and still names the first bad step)."""
    return 1 if device.type == "cpu" else tcfg.eval_every


def autocast_for(device: torch.device, amp: str):
    """The mixed-precision context of a run: ``auto`` is bf16 on CUDA (no
    gradient scaler needed) and full precision elsewhere; ``bf16`` and
    ``fp16`` force it (fp16 needs the scaler ``fit`` adds), ``off`` never."""
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(
        "bf16" if amp == "auto" and device.type == "cuda" else amp)
    if dtype is None:
        return contextlib.nullcontext(), None
    return torch.autocast(device.type, dtype=dtype), dtype


def fit(method, model, views, tcfg, progress: bool = True, weak=None, strong=None) -> RunRecord:
    """Train ``model`` with ``method`` on ``views``; return the run record.

    The same for every method: ``tcfg.steps`` optimiser steps of AdamW with
    a linear warm-up over the first ``WARMUP_SHARE`` of them and cosine decay,
    gradients clipped to norm ``GRAD_CLIP``, the labeled batches of the seed
    (``batch_streams``), each clip cut to a random window of ``tcfg.crop_s``
    seconds (``crop_frames``; whole clips at 0), an evaluation on the validation view every
    ``eval_every`` steps and at the end. The record's test metrics are those
    of the checkpoint ``tcfg.select`` names (``best`` on validation UA, or
    ``last``); the other's UA and WA are kept beside them (``ua_best``,
    ``ua_last``, ...). With ``tcfg.ema_eval > 0`` an exponential moving
    average of the weights is evaluated (FixMatch's choice), with Mean
    Teacher's ``ema_update`` and warm-up (``ema_decay_at``). With ``tcfg.patience`` > 0 training stops
    early, at the evaluation that makes ``patience`` evaluations in a row without a better validation
    UA than the best so far (the learning-rate schedule stays that of the planned ``steps``); ``record.config["steps_run"]``
    says how many steps were taken. On CUDA the views move to the GPU once, steps
    run under bf16 autocast (``tcfg.amp``) and nothing waits for the host
    inside a step: logs and the NaN check are read at evaluation time, and a
    non-finite loss raises ``TrainingError`` naming its step and loss parts.
    """
    seed_everything(path_seed(tcfg))
    device = select_device(tcfg.device)
    model.to(device)
    weak = weak or WeakAugment()
    strong = strong or SpecAugment()
    steps = tcfg.steps
    if method.needs_face and views.unlabeled.face is None:
        raise ValueError(f"{method.name} needs the face teacher's distributions on the unlabeled view (views.unlabeled.face)")
    views = views.to(device)
    use_unl = method.uses_unlabeled and len(views.unlabeled) > 0
    method.setup(model, len(views.unlabeled), views.n_classes, steps)

    opt, sched = optimiser(model, tcfg)
    autocast, amp_dtype = autocast_for(device, tcfg.amp)
    scaler = torch.amp.GradScaler(device.type) if amp_dtype == torch.float16 else None
    ema = copy.deepcopy(model).requires_grad_(False) if tcfg.ema_eval > 0 else None

    check_every = nan_check_every(device, tcfg)
    lab_it, unl_it = batch_streams(len(views.labeled), len(views.unlabeled), tcfg, use_unl, views.labeled.y)
    crop, crop_gens = crop_frames(tcfg), crop_generators(tcfg.seed)
    record = RunRecord(method.name, {**asdict(tcfg), **{f"method.{k}": v for k, v in method.params().items()}},
                       classes=tuple(views.classes))
    best_ua, best_state, window, stale = -1.0, None, [], 0
    evaluated = lambda: ema if ema is not None else method.eval_model(model)  # noqa: E731
    t0 = time.perf_counter()
    bar = tqdm(range(1, steps + 1), desc=method.name, disable=not progress, leave=False)
    for step in bar:
        model.train()
        batch = make_batch(views, next(lab_it), next(unl_it) if unl_it else None, device, crop, crop_gens)
        with autocast:
            loss, logs = method.step(model, batch, weak, strong, (step - 1) / steps)
        window.append({"loss": loss.detach(), **logs})
        evaluate_now = step % tcfg.eval_every == 0 or step == steps
        if check_every == 1 or evaluate_now:
            checked = window if check_every > 1 else window[-1:]
            bad = _first_bad_step(checked, step - len(checked) + 1)
            if bad is not None:
                raise TrainingError(f"{method.name}: the loss became {bad[1]['loss']} at step {bad[0]} of {steps} "
                                    f"(loss parts: {bad[1]}); lower lr (now {tcfg.lr}) or lambda_u", record)
        optimiser_step(model, loss, opt, sched, scaler)
        method.after_step(model, step / steps)
        if ema is not None:  # the kit's one weight average, Mean Teacher's (with its warm-up)
            ema_update(ema, model, ema_decay_at(step, tcfg.ema_eval))

        if evaluate_now:
            P = predict(evaluated(), views.val, device, autocast=autocast)
            val = evaluate(views.val.y.cpu().numpy(), P.argmax(1), views.n_classes)
            row = {"step": step, **_mean_logs(window), "val_ua": val["ua"], "val_wa": val["wa"],
                   "seconds": time.perf_counter() - t0}
            record.history.append(row)
            window = []
            if val["ua"] > best_ua:
                best_ua, best_state, stale = val["ua"], copy.deepcopy(evaluated().state_dict()), 0
            else:
                stale += 1
            bar.set_postfix(loss=f"{row['loss']:.3f}", val_ua=f"{val['ua']:.1f}")
            if tcfg.patience and stale >= tcfg.patience:
                break  # early stopping: the last evaluation was just made, so "last" is this step's model

    record.config["steps_run"] = step
    score_test(record, evaluated(), best_state, views, device, tcfg.select, autocast)
    record.metrics["best_val_ua"] = best_ua
    record.seconds = time.perf_counter() - t0
    return record


def optimiser(model, tcfg):
    """AdamW and its schedule, the same for every method: a linear warm-up over
    the first ``WARMUP_SHARE`` of ``tcfg.steps``, then cosine decay to zero."""
    steps = tcfg.steps
    # foreach: one call per group of tensors, not a Python loop over them (on a CPU the loop's small scalar ops
    # were 7 % of a supervised step; measured in docs/methods.md, "Training windows")
    opt = torch.optim.AdamW(model.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay, foreach=True)
    warm = max(1, round(steps * WARMUP_SHARE))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    return opt, sched


def optimiser_step(model, loss, opt, sched, scaler=None) -> None:
    """Backward, clip the gradient norm to ``GRAD_CLIP``, step (through the fp16
    gradient scaler when there is one) and advance the schedule."""
    opt.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
    else:
        loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
    scaler.step(opt) if scaler is not None else opt.step()
    if scaler is not None:
        scaler.update()
    sched.step()


def score_test(record: RunRecord, last_model, best_state: dict, views, device, select: str, autocast=None) -> None:
    """Score the last and the best-on-validation checkpoints on the test view;
    fill ``record`` with the predictions, embeddings, metrics and weights of the
    one ``select`` names, and the other's UA and WA (``ua_best``, ``ua_last``, ...).
    ``record.predictions`` holds the selected checkpoint's probabilities per test
    clip, and per clip of a second held-out split ``views.test_b`` where the views
    have a non-empty one (``core.prediction_frame``), and the metrics its target-
    domain score there: ``ua_b``, ``wa_b``, ``f1_b``."""
    y_test = views.test.y.cpu().numpy()
    last = copy.deepcopy(last_model)
    best = copy.deepcopy(last)
    best.load_state_dict(best_state)
    scored = {}
    for name, net in (("best", best), ("last", last)):
        P, E = predict(net, views.test, device, embed=True, autocast=autocast)
        scored[name] = (net, P, E, evaluate(y_test, P.argmax(1), views.n_classes))
    final, P, E, metrics = scored[select]
    record.y_true, record.probs, record.embeddings, record.y_pred = y_test, P, E, P.argmax(1)
    record.metrics = metrics | {f"{k}_{name}": scored[name][3][k] for name in scored for k in ("ua", "wa")}
    record.state_dict = {k: v.detach().cpu() for k, v in final.state_dict().items()}
    frames = [prediction_frame("test", y_test, P, views.classes, views.test.rows)]
    test_b = getattr(views, "test_b", None)
    if test_b is not None and len(test_b):
        P_b = predict(final, test_b, device, autocast=autocast)
        frames.append(prediction_frame("test_b", test_b.y.cpu().numpy(), P_b, views.classes, test_b.rows))
        scored_b = evaluate(test_b.y.cpu().numpy(), P_b.argmax(1), views.n_classes)  # the target-domain score
        record.metrics |= {f"{k}_b": scored_b[k] for k in ("ua", "wa", "f1")}
    record.predictions = pd.concat(frames, ignore_index=True)
