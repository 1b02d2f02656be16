"""Audio in, features out: loading, log-mel and STFT features, normalisation.

Reading uses soundfile (torchaudio's own loader needs torchcodec); stereo is
mixed down and other sampling rates are resampled with torchaudio.

Features follow the seed (KBS 2021), which fed short-time spectra to its
Transformer: ``stft`` gives log-magnitude STFT frames, ``logmel`` (the
usual default) pools them through a mel filterbank first. Frames are 25 ms
long every 10 ms by default. Normalisation statistics (mean and standard
deviation per frequency bin) come from the training split only, so nothing
about the test speakers leaks into training; features and statistics are
computed once per corpus and cached on disk.
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torchaudio

from .cache import cache_dir, load_arrays, save_arrays


class Padded(NamedTuple):
    """A batch of variable-length feature sequences.

    x : float tensor (B, T, F), zero after each sequence's end
    mask : bool tensor (B, T), True on real frames
    """
    x: torch.Tensor
    mask: torch.Tensor

    def to(self, device, non_blocking: bool = False) -> "Padded":
        return Padded(self.x.to(device, non_blocking=non_blocking), self.mask.to(device, non_blocking=non_blocking))

    def __len__(self):  # the batch size, like a tensor's
        return self.x.shape[0]


class AudioError(ValueError):
    """A file that cannot be used as audio; the message names it and says why."""


def load_audio(path, sr: int = 16000) -> np.ndarray:
    """Read ``path`` as float32 mono at ``sr`` Hz.

    Stereo is averaged to mono; other rates are resampled. Unreadable or
    empty files raise ``AudioError`` naming the file.
    """
    import soundfile as sf
    path = Path(path)
    try:
        data, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:  # soundfile raises several types
        raise AudioError(f"{path}: cannot be read as audio ({e}); expected a WAV/FLAC/OGG file") from None
    if data.size == 0:
        raise AudioError(f"{path}: the file holds no samples")
    wave = data.mean(axis=1)
    if file_sr != sr:
        wave = torchaudio.functional.resample(torch.from_numpy(wave), file_sr, sr).numpy()
    return wave.astype(np.float32)


def pad_batch(seqs: list[torch.Tensor]) -> Padded:
    """Stack (T_i, F) tensors into a zero-padded (B, T_max, F) batch and its mask."""
    lengths = torch.tensor([len(s) for s in seqs])
    x = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True)
    mask = torch.arange(x.shape[1])[None, :] < lengths[:, None]
    return Padded(x, mask)


class FeatureExtractor(torch.nn.Module):
    """Waveform (B, n) -> log spectrogram frames (B, T, F).

    Parameters
    ----------
    kind : "logmel" (F = n_mels) or "stft" (F = n_fft // 2 + 1 bins)
    sr : sampling rate, Hz
    n_fft : FFT size; win_ms : window length; hop_ms : hop between frames
    n_mels : number of mel bands (logmel only)

    Log compression is ``log(power + 1e-6)``, which turns loudness changes
    into additive shifts, as hearing does.
    """

    def __init__(self, kind="logmel", sr=16000, n_fft=400, win_ms=25.0, hop_ms=10.0, n_mels=40):
        super().__init__()
        self.kind, self.sr = kind, sr
        win, hop = int(sr * win_ms / 1000), int(sr * hop_ms / 1000)
        if win > n_fft:
            raise ValueError(f"win_ms={win_ms} gives {win} samples, more than n_fft={n_fft}; raise n_fft or shorten the window")
        self.hop = hop
        if kind == "logmel":
            self.spec = torchaudio.transforms.MelSpectrogram(sr, n_fft=n_fft, win_length=win, hop_length=hop,
                                                             n_mels=n_mels, power=2.0)
        elif kind == "stft":
            self.spec = torchaudio.transforms.Spectrogram(n_fft=n_fft, win_length=win, hop_length=hop, power=2.0)
        else:
            raise ValueError(f"features={kind!r} is not known; choose logmel or stft")

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return torch.log(self.spec(wave) + 1e-6).transpose(-1, -2)

    def n_frames(self, n_samples: int) -> int:
        return n_samples // self.hop + 1


def extractor_for(tcfg, sr: int = 16000) -> FeatureExtractor:
    return FeatureExtractor(tcfg.features, sr, tcfg.n_fft, tcfg.win_ms, tcfg.hop_ms, tcfg.n_mels)


def compute_features(waves: list[np.ndarray], extractor: FeatureExtractor, batch: int = 64) -> list[torch.Tensor]:
    """Features of every wave, batched by similar length for speed."""
    order = np.argsort([len(w) for w in waves])
    out: list = [None] * len(waves)
    with torch.no_grad():
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            wb = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(np.asarray(waves[j], np.float32)) for j in idx],
                                                 batch_first=True)
            fb = extractor(wb)
            for k, j in enumerate(idx):
                out[j] = fb[k, :extractor.n_frames(len(waves[j]))].clone()
    return out


def corpus_features(clips, tcfg, key: str | None = None) -> list[torch.Tensor]:
    """Features of every clip of a corpus, cached on disk under ``key``.

    ``key`` names the corpus (the built-in corpus uses its config hash);
    without a key nothing is cached.
    """
    ext = extractor_for(tcfg, clips.sr)
    fkey = f"{tcfg.features}-{tcfg.n_fft}-{tcfg.win_ms}-{tcfg.hop_ms}-{tcfg.n_mels}"
    path = cache_dir() / f"features-{key}-{fkey}.npz" if key else None
    if path is not None and path.exists():
        z = load_arrays(path)
        return [torch.from_numpy(a) for a in np.split(z["feats"], np.cumsum(z["lengths"])[:-1])]
    feats = compute_features(clips.waves, ext)
    if path is not None:
        save_arrays(path, feats=torch.cat(feats).numpy(), lengths=np.array([len(f) for f in feats]))
    return feats


def normalisation_stats(feats: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-bin mean and standard deviation over all frames of ``feats``
    (pass the training split only)."""
    allf = torch.cat(feats)
    return allf.mean(0), allf.std(0).clamp_min(1e-3)
