"""The models: the speech Transformer (student) and the face teacher.

``SpeechTransformer`` follows the paper (KBS 2021): spectral frames go
through a small front-end, get a positional encoding, pass a Transformer
encoder, and are mean-pooled over time (padding excluded) into one vector per
clip, which a linear head classifies. ``embed(x)`` returns that pooled
vector, the clip embedding the lessons plot with t-SNE/UMAP.

``face_model`` builds the face-expression teacher. The paper's teacher was a
MobileNet; timm's MobileNetV3 (Howard et al. 2019) is available here
(``face_arch="mobilenetv3_small_050"``), randomly initialised since nothing
may be downloaded. As timm builds it, for 224-pixel photographs and 1000
classes, it learns the kit's 64-pixel drawn faces hardly at all. Three
changes make it learn them within minutes on a CPU: a stride-1 stem and a
linear classifier in place of timm's 1024-wide head (``face_model``'s
``stem_stride`` and ``head``, TrainConfig's ``face_stem_stride`` and
``face_head``), and the teacher's schedule (``teacher.train_teacher``: a
peak learning rate of 1e-2 reached after a tenth of the steps, channels-last
batches). The small CNN (``FaceCNN``) learns the same faces better and
sooner with that schedule, so it stays the default; the figures are in
docs/methods.md, "The face teacher: CNN or MobileNetV3".
For real faces the kit uses a pretrained mini-Xception
(``sertools.fer2013``), itself a MobileNet-style network of depthwise
separable convolutions.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .core import Padded


class PositionalEncoding(nn.Module):
    """Sinusoidal position code (Vaswani et al. 2017) added to the frames."""

    def __init__(self, d_model: int, max_len: int = 4096):
        super().__init__()
        pos = torch.arange(max_len)[:, None]
        div = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, x):
        """``x`` (B, T, d_model) plus the code of positions 0 to T - 1 (T at most ``max_len``)."""
        return x + self.pe[: x.shape[1]]


class ConvFrontEnd(nn.Module):
    """Frames (B, T, F) -> (B, T / subsample, d_model) with strided 1-D convolutions.

    Each stride-2 convolution halves the frame rate: attention costs T^2,
    so subsampling by 4 makes the encoder about 16 times cheaper.
    """

    def __init__(self, n_in: int, d_model: int, subsample: int = 4):
        super().__init__()
        n_halvings = int(round(math.log2(subsample))) if subsample > 1 else 0
        chans = [n_in] + [d_model] * (n_halvings + 1)
        self.convs = nn.ModuleList(
            nn.Conv1d(chans[i], chans[i + 1], 3, stride=2 if i < n_halvings else 1, padding=1)
            for i in range(n_halvings + 1))

    def forward(self, x, mask):
        """Frames ``x`` (B, T, F) float with ``mask`` (B, T) bool -> (B, T', d_model) and
        its mask (B, T'); each halving makes T' = ceil(T / 2)."""
        h = x.transpose(1, 2)
        for i, conv in enumerate(self.convs):
            h = conv(h * mask[:, None, :])  # zero the padding so it never leaks into real frames
            if conv.stride[0] == 2:
                mask = mask[:, ::2]
            if i < len(self.convs) - 1:
                h = nn.functional.gelu(h)
        return h.transpose(1, 2), mask


class Dropout(nn.Dropout):
    """``nn.Dropout`` that draws its mask from uniform numbers on a CPU.

    PyTorch draws a dropout mask with ``bernoulli_``, which on a CPU is several
    times slower than drawing uniform numbers (pytorch/pytorch#138199): a
    default FixMatch step spent 18 % of its time there. Keeping a value where
    ``rand_like(x) >= p`` is the same Bernoulli(1 - p) mask (PyTorch's own
    compiler decomposes ``bernoulli`` this way); the kept values are scaled by
    1 / (1 - p), as ``nn.Dropout`` does. Measured on a 2-core CPU, one thread,
    a (96, 50, 128) tensor: 8.5 -> 4.9 ms. Elsewhere (CUDA, MPS) it is
    ``nn.Dropout`` itself.
    """

    def forward(self, x):
        """``x`` with each value zeroed with probability ``p`` and the rest scaled by 1 / (1 - p) (training only)."""
        if not self.training or self.p == 0 or x.device.type != "cpu":
            return super().forward(x)
        if self.p == 1:
            return x * 0.0
        return x * ((torch.rand_like(x) >= self.p) * (1.0 / (1.0 - self.p)))


class EncoderLayer(nn.TransformerEncoderLayer):
    """``nn.TransformerEncoderLayer`` (pre-norm) with a leaner self-attention path.

    The parameters, their names and initialisation are the library layer's,
    so a seed gives the same initial model and a checkpoint of either loads
    into the other; its dropouts are the kit's ``Dropout`` (the same
    Bernoulli masks, drawn faster on a CPU). The attention block is computed differently: the
    packed q, k, v projection is viewed as (B, heads, T, head size) and handed
    to ``scaled_dot_product_attention`` directly, where ``nn.MultiheadAttention``
    first transposes the batch to (T, B, E) and copies the projection into a
    (3, T, B, E) tensor; on a CPU those copies cost more than the attention
    itself. Measured on a 2-core CPU, one thread: a forward and backward pass
    of the default encoder (two layers, 96 clips of 50 frames) 81 -> 73 ms, a
    forward pass without gradient of 256 clips 76 -> 33 ms (the library's
    fused inference path), and a default FixMatch run of 100 steps 16.4 ->
    15.0 s (``make bench`` prints the first figure). With the library's
    dropouts put back, outputs agree with the library layer's: in training
    exactly (the same masks on the same elements), in evaluation and the
    gradients to rounding (tests/test_augment_model.py).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.dropout, self.dropout1, self.dropout2 = (Dropout(d.p) for d in (self.dropout, self.dropout1, self.dropout2))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """(B, T, E) -> (B, T, E); ``src_key_padding_mask`` (B, T), True or -inf
        on padding, as ``nn.TransformerEncoder`` passes it."""
        if not self.norm_first or src_mask is not None or is_causal or not self.self_attn.batch_first:
            return super().forward(src, src_mask, src_key_padding_mask, is_causal)
        x = src + self._attention(self.norm1(src), src_key_padding_mask)
        return x + self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(self.norm2(x))))))

    def _attention(self, x, padding):
        att = self.self_attn
        B, T, E = x.shape
        q, k, v = nn.functional.linear(x, att.in_proj_weight, att.in_proj_bias) \
            .view(B, T, 3, att.num_heads, E // att.num_heads).permute(2, 0, 3, 1, 4)
        mask = None
        if padding is not None:  # True (or -inf) on padding -> an additive mask over the keys
            mask = padding[:, None, None, :]
            mask = ~mask if mask.dtype == torch.bool else mask.to(q.dtype)
        a = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                                       dropout_p=att.dropout if self.training else 0.0)
        # (B, heads, T, head size) -> (T, B, E) in memory, seen as (B, T, E): the library's layout, so that
        # dropout's mask (drawn in memory order) falls on the same elements as in nn.MultiheadAttention
        return self.dropout1(att.out_proj(a.permute(2, 0, 1, 3).reshape(T, B, E)).transpose(0, 1))


def transformer_encoder(d_model: int, n_heads: int, n_layers: int, dim_ff: int, dropout: float,
                        attn_dropout: float = 0.0, layer=None) -> nn.TransformerEncoder:
    """``n_layers`` pre-norm GELU encoder layers (``EncoderLayer``, or the
    ``layer`` class given, e.g. ``nn.TransformerEncoderLayer`` to compare),
    with dropout ``dropout`` on the residual and feed-forward paths and
    ``attn_dropout`` on the attention weights."""
    one = (layer or EncoderLayer)(d_model, n_heads, dim_ff, dropout, batch_first=True, norm_first=True,
                                  activation="gelu")
    one.self_attn.dropout = attn_dropout  # the library layer uses one rate for all
    return nn.TransformerEncoder(one, n_layers, enable_nested_tensor=False)


class SpeechTransformer(nn.Module):
    """Transformer encoder over spectral frames with masked mean (or statistics) pooling.

    Parameters
    ----------
    n_in : features per frame (n_mels, or STFT bins)
    n_classes : emotion classes
    d_model, n_heads, n_layers, dim_ff, dropout : encoder sizes
    subsample : time subsampling of the front-end (1, 2, 4, 8)
    attn_dropout : dropout on the attention weights. Off by default: on a
        CPU it is the costliest dropout (one random number per pair of
        frames) and it rules out PyTorch's fused attention kernel; turning
        it off made a default training step about 16 % faster (measured on a
        2-core CPU; a forward pass without gradient 30 %). Dropout stays on
        the residual and feed-forward paths (``dropout``).

    pooling : ``mean`` (the paper's masked mean over time) or ``stats``
        (mean and standard deviation over time, concatenated: statistics
        pooling, as x-vector speaker and SER systems use; how much a clip's
        frames vary, its pitch range or loudness range, is then part of the
        embedding, which has 2 d_model numbers).

    ``forward`` takes a ``Padded`` batch (or a plain (B, T, F) tensor, all
    frames real) and returns logits (B, n_classes).
    """

    def __init__(self, n_in, n_classes, d_model=64, n_heads=4, n_layers=2, dim_ff=128,
                 dropout=0.1, subsample=4, attn_dropout=0.0, pooling="mean"):
        super().__init__()
        if pooling not in ("mean", "stats"):
            raise ValueError(f"pooling={pooling!r} is not known; choose mean or stats")
        self.pooling = pooling
        d_out = 2 * d_model if pooling == "stats" else d_model
        self.front = ConvFrontEnd(n_in, d_model, subsample)
        self.pos = PositionalEncoding(d_model)
        self.encoder = transformer_encoder(d_model, n_heads, n_layers, dim_ff, dropout, attn_dropout)
        self.norm = nn.LayerNorm(d_out)
        self.drop = Dropout(dropout)
        self.head = nn.Linear(d_out, n_classes)

    def embed(self, batch) -> torch.Tensor:
        """The clip embedding: encoder output pooled over real frames (mean, or mean and std)."""
        x, mask = (batch.x, batch.mask) if isinstance(batch, Padded) else \
            (batch, torch.ones(batch.shape[:2], dtype=torch.bool, device=batch.device))
        h, mask = self.front(x, mask)
        h = self.encoder(self.pos(h), src_key_padding_mask=~mask)
        m = mask[..., None].to(h.dtype)
        n = m.sum(1).clamp_min(1.0)
        mean = (h * m).sum(1) / n
        if self.pooling == "stats":
            var = (((h - mean[:, None]) ** 2) * m).sum(1) / n
            mean = torch.cat([mean, (var + 1e-5).sqrt()], -1)
        return self.norm(mean)

    def forward(self, batch) -> torch.Tensor:
        """Logits (B, n_classes): the head on ``embed(batch)``, after dropout."""
        return self.head(self.drop(self.embed(batch)))


def speech_model(n_in: int, n_classes: int, tcfg) -> SpeechTransformer:
    """The speech Transformer with the sizes of a ``TrainConfig``."""
    return SpeechTransformer(n_in, n_classes, tcfg.d_model, tcfg.n_heads, tcfg.n_layers,
                             tcfg.dim_ff, tcfg.dropout, tcfg.subsample, tcfg.attn_dropout,
                             getattr(tcfg, "pooling", "mean"))


class FaceCNN(nn.Module):
    """Four conv-BN-ReLU-maxpool blocks and a linear head: (B, 3, H, W) -> logits.

    Max pooling keeps small local details (a lip corner, a brow) that decide
    an expression at 64 pixels.
    """

    def __init__(self, n_classes: int, width: int = 16):
        super().__init__()
        chans = [3, width, 2 * width, 4 * width, 4 * width]
        self.features = nn.Sequential(*[
            nn.Sequential(nn.Conv2d(chans[i], chans[i + 1], 3, padding=1), nn.BatchNorm2d(chans[i + 1]),
                          nn.ReLU(), nn.MaxPool2d(2)) for i in range(4)])
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(chans[-1], n_classes))

    def forward(self, x):
        """Logits (B, n_classes) of face images ``x`` (B, 3, H, W) float."""
        return self.head(self.features(x))


FACE_HEADS = ("linear", "timm")


def face_model(n_classes: int, arch: str = "cnn", stem_stride: int = 1, head: str = "linear") -> nn.Module:
    """The face teacher: ``cnn`` (FaceCNN) or a timm model name such as
    ``mobilenetv3_small_050`` (randomly initialised, nothing downloaded).

    For a timm MobileNetV3 two changes fit it to 64-pixel faces (both measured
    in docs/methods.md, "The face teacher: CNN or MobileNetV3"):

    - ``stem_stride``: the stride of its first convolution, 1 (keep every
      pixel into the first block) or 2 (the library's, made for 224-pixel
      photographs: a 64-pixel face is down to 16 x 16 after two layers).
    - ``head``: ``linear``, a linear classifier on the pooled last-stage
      features; or ``timm``, the library's head, a 1 x 1 convolution to 1024
      features before the classifier, sized for ImageNet's 1000 classes; with
      4 classes and AdamW its logits grow within the first epoch (training
      loss 2-3.5, above chance's 1.39) and the network learns no expression.

    ``cnn`` ignores both, so its training is what it always was.
    """
    if arch == "cnn":
        return FaceCNN(n_classes)
    if head not in FACE_HEADS:
        raise ValueError(f"head={head!r} is not known; choose one of {', '.join(FACE_HEADS)}")
    import timm
    model = timm.create_model(arch, pretrained=False, num_classes=n_classes)
    model.conv_stem.stride = (stem_stride, stem_stride)
    if head == "linear":
        model.conv_head, model.norm_head, model.act2 = nn.Identity(), nn.Identity(), nn.Identity()
        model.classifier = nn.Linear(model.num_features, n_classes)
    return model


def teacher_model(n_classes: int, tcfg) -> nn.Module:
    """The face teacher of a ``TrainConfig`` (``face_arch``, ``face_stem_stride``, ``face_head``)."""
    return face_model(n_classes, tcfg.face_arch, tcfg.face_stem_stride, tcfg.face_head)
