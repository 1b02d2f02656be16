"""Weak and strong augmentations of whole batches of feature sequences.

FixMatch (Sohn et al. 2020) needs two views of an unlabeled clip: a weak one
whose prediction becomes the pseudo-label, and a strong one that must
reproduce it. For speech, the strong view is SpecAugment (Park et al. 2019):
random bands of frequency and spans of time are masked (torchaudio's
``mask_along_axis_iid``, the function behind its ``FrequencyMasking`` and
``TimeMasking``), optionally with a time warp; the
weak view is a light perturbation (a little noise, feature dropout, a small
circular time shift), as in the paper.

Both act on ``Padded`` batches (features (B, T, F) and mask (B, T)) of
normalised features, so a masked value of 0 is the corpus mean. Each is a
small ``nn.Module`` whose parameters are plain attributes: print one to see
them, and plot ``aug(batch).x[0]`` next to ``batch.x[0]`` to see what it does.
Any tensor (not only ``Padded``) is accepted too, as (B, T, F) or (B, F).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
import torchaudio

from .core import Padded


def _split(batch):
    if isinstance(batch, Padded):
        return batch.x, batch.mask
    return batch, None


def _join(x, mask):
    return x if mask is None else Padded(x, mask)


def time_shift(x: torch.Tensor, mask: torch.Tensor | None, max_shift: int) -> torch.Tensor:
    """Roll each sequence circularly within its own length by up to ``max_shift`` frames."""
    B, T = x.shape[:2]
    lengths = mask.sum(1) if mask is not None else torch.full((B,), T, device=x.device)
    shift = torch.randint(-max_shift, max_shift + 1, (B, 1), device=x.device)
    t = torch.arange(T, device=x.device)[None, :]
    src = torch.remainder(t - shift, lengths.clamp_min(1)[:, None])
    src = torch.where(t < lengths[:, None], src, t)  # padding stays in place
    return torch.gather(x, 1, src[..., None].expand_as(x))


class WeakAugment(torch.nn.Module):
    """Light perturbation: Gaussian noise, feature dropout, small time shift.

    noise_std : std of added noise (features are normalised, so 0.1 is small)
    dropout : chance of zeroing each feature value
    max_shift : largest circular time shift, frames
    """

    def __init__(self, noise_std: float = 0.1, dropout: float = 0.05, max_shift: int = 5):
        super().__init__()
        self.noise_std, self.dropout, self.max_shift = noise_std, dropout, max_shift

    def forward(self, batch):
        """The weak view of a ``Padded`` batch (x (B, T, F), mask (B, T)) or a
        (B, T, F) or (B, F) tensor: time shift (sequences only), noise, then
        dropout; padding stays 0. Returns the same kind it got."""
        x, mask = _split(batch)
        if x.dim() == 3 and self.max_shift > 0:
            x = time_shift(x, mask, self.max_shift)
        x = x + self.noise_std * torch.randn_like(x)
        if self.dropout > 0:
            x = x * (torch.rand_like(x) >= self.dropout)
        if mask is not None:
            x = x * mask[..., None]
        return _join(x, mask)


class SpecAugment(torch.nn.Module):
    """SpecAugment (Park et al. 2019) on (B, T, F) features.

    freq_mask : widest frequency mask, bins (n_freq_masks of them)
    time_mask : widest time mask, frames (n_time_masks of them)
    time_warp : largest warp of the time axis around a random centre, frames (0: off)
    noise_std : noise added after masking
    Masks are drawn independently for every clip of the batch.
    """

    def __init__(self, freq_mask: int = 8, time_mask: int = 20, n_freq_masks: int = 2,
                 n_time_masks: int = 2, time_warp: int = 0, noise_std: float = 0.2):
        super().__init__()
        self.freq_mask, self.time_mask = freq_mask, time_mask
        self.n_freq_masks, self.n_time_masks = n_freq_masks, n_time_masks
        self.time_warp, self.noise_std = time_warp, noise_std

    def warp(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Stretch each clip's time axis left of a random centre and squeeze it
        right of it, within the clip's own length (clips shorter than
        4 * time_warp frames are left as they are)."""
        tw = self.time_warp
        if tw <= 0:
            return x
        lengths = mask.sum(1).tolist() if mask is not None else [x.shape[1]] * len(x)
        out = x.clone()
        for i, L in enumerate(lengths):
            if L < 4 * tw:
                continue
            c = int(torch.randint(tw + 1, L - tw, ()))  # both parts keep at least one frame
            w = int(torch.randint(-tw, tw + 1, ()))
            seq = x[i, :L].T[None]                       # (1, F, L)
            left = F.interpolate(seq[..., :c], size=c + w, mode="linear", align_corners=False)
            right = F.interpolate(seq[..., c:], size=L - c - w, mode="linear", align_corners=False)
            out[i, :L] = torch.cat([left, right], dim=2)[0].T
        return out

    def forward(self, batch):
        """The strong view of a ``Padded`` batch or a (B, T, F) or (B, F) tensor:
        time warp, frequency masks, time masks (warp and time masks on
        sequences only), then noise; padding stays 0. Returns the same kind it got."""
        x, mask = _split(batch)
        x = self.warp(x, mask) if x.dim() == 3 else x
        seq = x.dim() == 3
        # torchaudio's layout is (batch, channel, freq, time); masks are drawn per clip (iid)
        spec = (x.transpose(1, 2).unsqueeze(1) if seq else x[:, None, :, None]).contiguous()
        for _ in range(self.n_freq_masks):
            spec = torchaudio.functional.mask_along_axis_iid(spec, self.freq_mask, 0.0, 2)
        if seq:
            for _ in range(self.n_time_masks):
                spec = torchaudio.functional.mask_along_axis_iid(spec, self.time_mask, 0.0, 3)
        # back to (B, T, F) in memory too: random numbers for a strided tensor are ~8x slower to draw
        x = (spec[:, 0].transpose(1, 2) if seq else spec[:, 0, :, 0]).contiguous()
        x = x + self.noise_std * torch.randn_like(x)
        if mask is not None:
            x = x * mask[..., None]
        return _join(x, mask)


class Identity(torch.nn.Module):
    """No augmentation (for evaluation, or to switch one off)."""

    def forward(self, batch):
        """``batch`` itself, unchanged."""
        return batch
