"""The face-expression teacher and its clip-level predictions.

The paper (KBS 2021) trains a MobileNet on face-expression datasets, runs it
on the frames of unlabeled videos, aggregates the frame predictions into one
distribution per clip, and transfers that distribution to the speech model
(as Albanie et al. 2018 did for EmoVoxCeleb). Here the teacher is trained
from scratch on the built-in single-image face set (``sertools.models.
face_model``: a small CNN by default, a timm MobileNetV3 as an option), with
identities held out to measure how well it generalises to new faces.

Aggregation over a clip's frames (``aggregate``):

- ``mean``: mean of frame probabilities (the default; robust to one bad frame)
- ``max``: per class, the largest frame probability, renormalised
- ``logit_mean``: softmax of the mean logits (a geometric mean of probabilities)
- ``vote``: share of frames whose top class is each class

Clip distributions are computed once per corpus and teacher, and cached.
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .cache import atomic_write, cache_dir, load_arrays, save_arrays
from .config import config_hash, stage_key
from .models import teacher_model

AGGREGATES = ("mean", "max", "logit_mean", "vote")
TEACHER_WARMUP = 0.1     # share of the one-cycle schedule spent warming up to the peak (TrainConfig.face_lr)
TEACHER_BATCH = 64       # face images per step
HELD_OUT_EVERY = 5       # one face identity in five is never trained on (``held_out``)


def held_out(identity: np.ndarray) -> np.ndarray:
    """Which face images belong to the identities the teacher never trains on
    (one in ``HELD_OUT_EVERY``): its held-out accuracy is measured on them."""
    return np.asarray(identity) % HELD_OUT_EVERY == 0


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 RGB (n, H, W, 3) -> float (n, 3, H, W) in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def _augment(x: torch.Tensor) -> torch.Tensor:
    """Random horizontal flip and a small random shift: faces are symmetric enough. The batch comes back
    channels-last (PyTorch's ``channels_last`` memory format), which the teacher is trained in: a MobileNet's
    depthwise convolutions run about 1.8 times faster so on a CPU (docs/methods.md, "The face teacher")."""
    flip = torch.rand(len(x)) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    dx, dy = np.random.randint(-3, 4, 2)
    return torch.roll(x, shifts=(int(dy), int(dx)), dims=(2, 3)).contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def predict_logits(model, images: np.ndarray, batch: int = 256) -> torch.Tensor:
    """Frame logits for uint8 RGB images (n, H, W, 3)."""
    model.eval()
    device = next(model.parameters()).device
    out = [model(to_tensor(images[i:i + batch]).to(device)).cpu() for i in range(0, len(images), batch)]
    return torch.cat(out) if out else torch.zeros(0)


def train_teacher(ccfg, tcfg=None, progress: bool = True, refresh: bool = False) -> dict:
    """Train (or load from the cache) the face teacher on the built-in face set.

    Returns a dict: ``model``, ``heldout_acc`` (frame accuracy in percent on
    identities never seen in training), ``seconds``, ``path``, ``history``.

    A loop of its own, and not ``train.fit``: this is plain supervised
    image classification, epochs over a fixed face set with a one-cycle
    schedule (``face_lr``, ``TEACHER_WARMUP``, ``TEACHER_BATCH``) and the held-out
    identities scored after each epoch. ``fit`` is built for the speech
    views (padded sequences, labeled and unlabeled streams, a method's loss,
    checkpoint selection on validation UA), none of which applies to single
    images; bending it to take them would make the one loop harder to read
    for the methods it exists for. The checkpoint is written atomically.
    """
    from .config import TrainConfig
    from .core import seed_everything, select_device
    from .synth.corpus import face_image_set
    tcfg = tcfg or TrainConfig()
    epochs = tcfg.face_epochs
    images, labels, identity = face_image_set(ccfg)
    n_classes = int(labels.max()) + 1
    path = cache_dir() / f"teacher-{stage_key('teacher', ccfg, tcfg)}.pt"
    held = held_out(identity)
    if path.exists() and not refresh:
        model = teacher_model(n_classes, tcfg)
        ck = torch.load(path, weights_only=True, map_location="cpu")
        model.load_state_dict(ck["state_dict"])
        return {"model": model, "heldout_acc": float(ck["heldout_acc"]), "seconds": float(ck["seconds"]),
                "path": path, "history": ck["history"].tolist()}
    seed_everything(ccfg.corpus_seed)  # before the model: its initial weights belong to the seed too
    model = teacher_model(n_classes, tcfg).to(memory_format=torch.channels_last)
    device = select_device(tcfg.device)
    model.to(device)
    X, y = to_tensor(images[~held]), torch.as_tensor(labels[~held])
    opt = torch.optim.AdamW(model.parameters(), lr=tcfg.face_lr, weight_decay=1e-4)
    steps = epochs * int(np.ceil(len(X) / TEACHER_BATCH))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=tcfg.face_lr, total_steps=steps, pct_start=TEACHER_WARMUP)
    t0, history = time.perf_counter(), []
    bar = tqdm(range(epochs), desc="face teacher", disable=not progress, leave=False)
    for _ in bar:
        model.train()
        for idx in torch.randperm(len(X)).split(TEACHER_BATCH):
            loss = F.cross_entropy(model(_augment(X[idx]).to(device)), y[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        acc = 100.0 * float((predict_logits(model, images[held]).argmax(1).numpy() == labels[held]).mean())
        history.append(acc)
        bar.set_postfix(heldout_acc=f"{acc:.1f}")
    seconds = time.perf_counter() - t0
    model.cpu()
    checkpoint = {"state_dict": model.state_dict(), "heldout_acc": torch.tensor(history[-1]),
                  "seconds": torch.tensor(seconds), "history": torch.tensor(history)}
    atomic_write(path, lambda tmp: torch.save(checkpoint, tmp))  # an interrupted save leaves no half file
    return {"model": model, "heldout_acc": history[-1], "seconds": seconds, "path": path, "history": history}


def aggregate(logits: torch.Tensor, how: str = "mean") -> torch.Tensor:
    """One clip distribution (C,) from its frames' logits (n_frames, C)."""
    if how not in AGGREGATES:
        raise ValueError(f"aggregate={how!r} is not known; choose one of {', '.join(AGGREGATES)}")
    p = torch.softmax(logits, -1)
    if how == "mean":
        return p.mean(0)
    if how == "max":
        m = p.max(0).values
        return m / m.sum()
    if how == "logit_mean":
        return torch.softmax(logits.mean(0), -1)
    votes = torch.bincount(p.argmax(-1), minlength=p.shape[-1]).float()
    return votes / votes.sum()


def teacher_name(face_teacher: str, corpus_name: str) -> str:
    """Which teacher ``auto`` means: the kit's own on the built-in corpus, FER2013 on real faces."""
    if face_teacher != "auto":
        return face_teacher
    return "trained" if corpus_name == "builtin" else "fer2013"


def frame_teacher(clips, ccfg, tcfg, progress: bool = True):
    """``(logits_fn, key)``: frame logits over the corpus's classes for uint8 RGB face crops, and a
    cache key naming the teacher. ``fer2013`` is the pretrained real-face teacher (``sertools.fer2013``)."""
    name = teacher_name(tcfg.face_teacher, clips.name)
    if name == "fer2013":
        from .fer2013 import FER2013Teacher
        return FER2013Teacher(clips.classes, tcfg.fer_map), f"fer2013-{tcfg.fer_map}-{config_hash(extra={'c': list(clips.classes)})}"
    teacher = train_teacher(ccfg, tcfg, progress=progress)
    n_out = predict_logits(teacher["model"], np.zeros((1, ccfg.face_size, ccfg.face_size, 3), np.uint8)).shape[-1]
    if n_out != clips.n_classes:
        raise ValueError(f"face_teacher=trained knows {n_out} classes (the built-in {ccfg.classes}) but the corpus "
                         f"{clips.name!r} has {clips.n_classes} {list(clips.classes)}; use --set face_teacher=fer2013")
    return (lambda frames: predict_logits(teacher["model"], frames)), teacher["path"].stem


def with_faces(clips, rows) -> list[int]:
    """The rows (clip positions) whose clip has at least one face frame."""
    return [i for i in rows if clips.frames is not None and clips.frames[i] is not None and len(clips.frames[i])]


def clip_distributions(clips, ccfg, tcfg, progress: bool = True) -> np.ndarray:
    """The teacher's distribution for every clip of a corpus (N, C).

    Rows of clips without video (or without a face found) are NaN: the
    cross-modal methods leave those clips out. Cached per corpus, teacher and
    aggregation rule.
    """
    from .corpora import corpus_key
    logits_fn, teacher_key = frame_teacher(clips, ccfg, tcfg, progress=progress)
    ck = corpus_key(clips)
    path = cache_dir() / f"facedist-{ck}-{teacher_key}-{tcfg.aggregate}.npz" if ck else None
    if path is not None and path.exists():
        return load_arrays(path)["dist"]
    dist = np.full((len(clips), clips.n_classes), np.nan, dtype=np.float32)
    have = with_faces(clips, range(len(clips)))
    if have:
        frames = np.concatenate([clips.frames[i] for i in have])
        logits = logits_fn(frames)
        for i, chunk in zip(have, torch.split(logits, [len(clips.frames[i]) for i in have])):
            dist[i] = aggregate(chunk, tcfg.aggregate).numpy()
    if path is not None:
        save_arrays(path, dist=dist)
    return dist


def aggregation_accuracy(model, clips, split: str = "unlabeled"):
    """The face teacher's accuracy (%) on one split's videos: single frames, and
    clips under each aggregation rule (``aggregate``), scored against the
    face's true emotion (``face_label``, built-in corpus only) and against the
    voice label (``label``, what the speech model must predict).

    Returns a DataFrame, one row per rule ("single frame", then the rules).
    """
    import pandas as pd
    idx = with_faces(clips, clips.indices(split))
    t = clips.table.iloc[idx]
    targets = {"face's true emotion": t["face_label"].to_numpy()} if "face_label" in t else {}
    targets["voice label"] = t["label"].to_numpy()
    logits = torch.split(predict_logits(model, np.concatenate([clips.frames[i] for i in idx])),
                         [len(clips.frames[i]) for i in idx])
    frame_hits = lambda y: np.concatenate([l.argmax(1).numpy() == c for l, c in zip(logits, y)])  # noqa: E731
    rows = [{"rule": "single frame", **{k: 100 * frame_hits(y).mean() for k, y in targets.items()}}]
    for how in AGGREGATES:
        pred = np.array([int(aggregate(l, how).argmax()) for l in logits])
        rows.append({"rule": how, **{k: 100 * np.mean(pred == y) for k, y in targets.items()}})
    return pd.DataFrame(rows).set_index("rule")


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


def describe_file(path, ccfg, tcfg, n_frames: int = 16) -> str:
    """The teacher's class distribution for an image or a video, as text.

    Faces are found with OpenCV's Haar cascade and cropped the way the
    teacher was trained; for a video each frame gets a line and the clip a
    ``mean`` aggregate. A frame without a face is reported, not labeled.
    ``face_teacher=auto`` means the pretrained FER2013 teacher here (a file
    holds a real face); it shows all 7 FER2013 classes and, for the clip,
    their mapping to the kit's classes.
    """
    from pathlib import Path

    import cv2

    from .config import class_names
    from .video import face_crops, read_frames
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        img = cv2.imread(str(path))
        if img is None:
            raise ValueError(f"{path}: cannot be read as an image")
        frames = img[None, :, :, ::-1]
    else:
        frames = read_frames(path, n_frames)
    crops, found = face_crops(frames, size=ccfg.face_size)
    kit_names = class_names(ccfg.classes)
    name = teacher_name(tcfg.face_teacher, "file")
    what = ("FER2013 mini-Xception, pretrained on real faces" if name == "fer2013" else
            f"{tcfg.face_arch}, trained on the kit's drawn faces: real faces are out of its domain")
    lines = [f"{path} ({len(frames)} frame(s), face found in {int(found.sum())}); teacher: {name} ({what})"]
    if not found.any():
        return "\n".join(lines + ["no face found: nothing to label"])
    if name == "fer2013":
        from .fer2013 import FER_CLASSES, FER2013Teacher, map_probs
        teacher = FER2013Teacher(kit_names, tcfg.fer_map)
        probs, names = teacher.fer_probs(crops), FER_CLASSES
        clip = map_probs(probs.mean(0), teacher.M)
    else:
        probs = torch.softmax(predict_logits(train_teacher(ccfg, tcfg, progress=False)["model"], crops), -1)
        names, clip = kit_names, probs.mean(0)
    fmt = lambda p, n: "  ".join(f"{c} {100 * v:5.1f}%" for c, v in zip(n, p))  # noqa: E731
    k = 0
    for i, ok in enumerate(found):
        if ok:
            lines.append(f"frame {i:3d}: {fmt(probs[k].tolist(), names)}")
            k += 1
        else:
            lines.append(f"frame {i:3d}: no face found (left out)")
    lines.append(f"{'clip (mean of %d faces)' % len(crops) if len(frames) > 1 else 'as the kit classes'}: "
                 f"{fmt(clip.tolist(), kit_names)}")
    return "\n".join(lines)
