"""Audio in, features out: loading, log-mel and STFT features, normalisation.

Reading uses soundfile (torchaudio's own loader needs torchcodec); stereo is
mixed down and other sampling rates are resampled with torchaudio.

Features follow the paper (KBS 2021), which fed short-time spectra to its
Transformer: ``stft`` gives log-magnitude STFT frames, ``logmel`` (the
usual default) pools them through a mel filterbank first. Frames are 25 ms
long every 10 ms by default. Normalisation statistics (mean and standard
deviation per frequency bin) come from the training split only, so nothing
about the test speakers leaks into training; features and statistics are
computed once per corpus and cached on disk.

Beyond the paper, the kit's default appends three frame-level
``pitch_tracks`` (F0 in semitones, voicing, loudness) to the log-mel, and
``group_normalise`` removes what a clip or a speaker adds to every frame
before the pool's z-score: per-clip mean and variance of the spectrum
(CMVN: a gain or a microphone colour vanishes), per-speaker statistics of the
tracks (a raised pitch is then "higher than this speaker's usual"). On the
default preset these took the supervised model from 66 % to about 90 % test
UA with all labels (notebooks/02 and ``make bench`` measure each step).
"""
from __future__ import annotations

from pathlib import Path
import numpy as np
import torch
import torchaudio

from .cache import cache_dir, load_arrays, save_arrays
from .config import stage_key
from .core import Padded
from .recorder import RECORDING_RANGES, draw_recording, record


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
        self.hop, self.n_fft = hop, n_fft
        if kind == "logmel":
            self.spec = torchaudio.transforms.MelSpectrogram(sr, n_fft=n_fft, win_length=win, hop_length=hop,
                                                             n_mels=n_mels, power=2.0)
        elif kind == "stft":
            self.spec = torchaudio.transforms.Spectrogram(n_fft=n_fft, win_length=win, hop_length=hop, power=2.0)
        else:
            raise ValueError(f"frontend={kind!r} is not known; choose logmel or stft")

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Log features of a waveform: (..., samples) -> (..., frames, F)."""
        return torch.log(self.spec(wave) + 1e-6).transpose(-1, -2)

    def n_frames(self, n_samples: int) -> int:
        """How many frames ``forward`` makes of ``n_samples`` samples (centred frames)."""
        return n_samples // self.hop + 1


def extractor_for(tcfg, sr: int = 16000) -> FeatureExtractor:
    """The feature extractor a TrainConfig names (``frontend``, window, hop, bands)."""
    return FeatureExtractor(tcfg.frontend, sr, tcfg.n_fft, tcfg.win_ms, tcfg.hop_ms, tcfg.n_mels)


def classic_logmel_config(tcfg):
    """The log-mel settings the classic ``logmel`` features (and the corpus's
    difficulty check) keep whatever the deep model's inputs are: the paper's
    25 ms window, 40 bands, no pitch tracks."""
    import dataclasses
    return dataclasses.replace(tcfg, frontend="logmel", n_fft=400, win_ms=25.0, hop_ms=10.0, n_mels=40,
                               pitch_tracks=False)


TRACKS = ("f0_st", "voicing", "loudness_db")  # the names of the pitch tracks, in order
TRACKS_VERSION = 1  # bump when pitch_tracks changes: cached features are then recomputed
FRAMES_VERSION = 2  # bump when compute_features changes (2: a clip's last frames no longer depend on its batch)
VERSIONS = {"tracks_version": TRACKS_VERSION, "frames_version": FRAMES_VERSION}  # part of every feature cache key


def pitch_tracks(wave: np.ndarray, sr: int, n_frames: int, hop_ms: float = 10.0) -> np.ndarray:
    """Frame-level prosody next to the spectrum: (n_frames, 3) float32.

    Columns (``TRACKS``): F0 in semitones (re 27.5 Hz, as eGeMAPS), linearly
    interpolated across unvoiced frames so the track has no jumps to zero;
    voicing strength (the normalised autocorrelation peak, 0-1); loudness
    (frame RMS, dB). They come from the kit's own pitch tracker
    (``sertools.prosody``: 40 ms frames every 10 ms), aligned with the
    centred frames of ``FeatureExtractor`` (a prosody frame's centre lies
    20 ms after its start) and resampled to ``hop_ms`` if it is not 10 ms.

    A 25 ms log-mel has bands about 30-60 Hz wide at low frequencies, so a
    male voice's harmonics (100-130 Hz apart) blur together and a change of
    a few semitones is hard to see; these three numbers per frame give the
    model the pitch level, range and contour, and the loudness, that the
    classic features read out directly.
    """
    from .prosody import FRAME_MS, HOP_MS, analyse_frames, semitones
    a = analyse_frames(np.asarray(wave, np.float32), sr)
    voiced, f0 = a["voiced"], a["f0"]
    st = semitones(f0)
    t = np.arange(len(f0))
    if voiced.any():
        st = np.interp(t, t[voiced], st[voiced])
    else:
        st = np.full(len(f0), semitones(np.array([150.0]))[0])  # no pitch: a neutral middle value
    tr = np.stack([st, a["strength"], a["rms_db"]], 1).astype(np.float32)
    # prosody frame i covers [i hop, i hop + FRAME_MS): its centre is frame i + FRAME_MS/2/hop of a centred STFT
    lead = int(round(FRAME_MS / 2 / HOP_MS))
    centres = (np.arange(n_frames) * hop_ms) / HOP_MS - lead  # fractional prosody frame per output frame
    idx = np.arange(len(tr))
    return np.stack([np.interp(centres, idx, tr[:, j]) for j in range(tr.shape[1])], 1).astype(np.float32)


def compute_features(waves: list[np.ndarray], extractor: FeatureExtractor, batch: int = 64) -> list[torch.Tensor]:
    """Features of every wave, batched by similar length for speed.

    Each wave's features are those it would have alone: the centred STFT
    pads a wave's end with its own reflection, so before the batch is
    zero-padded to its longest wave each wave gets that reflection itself
    (otherwise a clip's last frames would see zeros, and depend on which
    clips shared its batch).
    """
    order = np.argsort([len(w) for w in waves])
    out: list = [None] * len(waves)
    tail = extractor.n_fft // 2
    with torch.no_grad():
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            padded = [np.pad(np.asarray(waves[j], np.float32), (0, min(tail, len(waves[j]) - 1)), mode="reflect")
                      for j in idx]
            wb = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(w) for w in padded], batch_first=True)
            fb = extractor(wb)
            for k, j in enumerate(idx):
                out[j] = fb[k, :extractor.n_frames(len(waves[j]))].clone()
    return out


def feature_key(tcfg) -> str:
    """The disk cache's key of the raw features: the kind, then a hash of every
    field the features step reads (``config.STAGE_FIELDS["features"]``) and the
    pitch tracks' version."""
    return f"{tcfg.frontend}-{stage_key('features', tcfg, extra=VERSIONS)}"


def _features_of(waves, sr: int, tcfg) -> list[torch.Tensor]:
    """The spectrum (and, with ``tcfg.pitch_tracks``, the ``TRACKS``) of each wave."""
    feats = compute_features(waves, extractor_for(tcfg, sr))
    if getattr(tcfg, "pitch_tracks", False):
        feats = [torch.cat([f, torch.from_numpy(pitch_tracks(w, sr, len(f), tcfg.hop_ms))], 1)
                 for f, w in zip(feats, waves)]
    return feats


def corpus_features(clips, tcfg, key: str | None = None) -> list[torch.Tensor]:
    """Features of every clip of a corpus, cached on disk under ``key``.

    ``key`` names the corpus (the built-in corpus uses its config hash);
    without a key nothing is cached. With ``tcfg.pitch_tracks`` the three
    ``TRACKS`` are appended to each frame's spectrum (F grows by 3).
    """
    path = cache_dir() / f"features-{key}-{feature_key(tcfg)}.npz" if key else None
    if path is not None and path.exists():
        return _split_sequences(load_arrays(path))
    feats = _features_of(clips.waves, clips.sr, tcfg)
    if path is not None:
        _save_sequences(path, feats)
    return feats


def _save_sequences(path, feats: list[torch.Tensor], **extra) -> None:
    """Store (T_i, F) tensors as one concatenated array and their lengths (and ``extra`` arrays)."""
    save_arrays(path, feats=torch.cat(feats).numpy(), lengths=np.array([len(f) for f in feats]), **extra)


def _split_sequences(z: dict) -> list[torch.Tensor]:
    """The (T_i, F) tensors ``_save_sequences`` stored, from its loaded arrays."""
    return [torch.from_numpy(a) for a in np.split(z["feats"], np.cumsum(z["lengths"])[:-1])]


COPIES_VERSION = 2  # bump when the re-recording changes (2: the outside room model, sertools.recorder)


def rerecord(wave: np.ndarray, rng, sr: int = 16000) -> np.ndarray:
    """``wave`` played again through a random room and picked up by a random
    microphone, drawn with ``rng`` (a ``numpy.random.Generator``); float32,
    the shape of ``wave``.

    An outside model, not the built-in corpus's channel code
    (``sertools.rooms``, which makes its domain B): a user of a real corpus
    does not know the generator of the domain they will meet, so the copies
    must not either (``sertools.recorder`` never imports ``sertools.rooms``).
    Each parameter is uniform over ``recorder.RECORDING_RANGES``:

    - the room: a shoebox of 3-8 x 2.5-6 x 2.4-3.5 m (a small office or
      bedroom to a meeting or living room) whose walls absorb what Sabine's
      formula gives for an RT60 of 0.2-0.8 s (furnished to bare rooms; the
      usual range of offices and homes), the talker's mouth 1.2-1.8 m high,
      the microphone 0.7-1.5 m high and 0.5-3 m from it, both at least
      0.5 m from the walls; simulated by pyroomacoustics (Scheibler et al.
      2018): the image-source method (Allen & Berkley 1979; Habets 2006) up
      to the 3rd order and ray tracing for the late tail (10 % diffuse
      scattering: the decay then follows the target, a measured T30 of
      0.84-1.07 times it over 60 draws), aligned on the direct path and
      cut to the clip's length;
    - the microphone (audiomentations): white self-noise at 10-30 dB SNR,
      then a high-pass at 50-300 Hz and a low-pass at 3.4-7.5 kHz
      (12 dB/octave, a telephone band to a full-band capsule; the noise
      is band-limited with the voice, unlike the corpus's 1/f**colour
      noise), a soft tanh saturation (amount 0-0.3) and a gain of -6 to
      +6 dB; clipped to [-1, 1].

    These follow multi-condition training for robust speech systems
    (simulated rooms and added noise, Ko et al. 2017, ICASSP), with typical
    office and home rooms, not the corpus's own channel settings.
    ``recorder.draw_recording(rng)`` returns the same draw as a dict.
    """
    return record(wave, draw_recording(rng), sr)


# The built-in corpus's default number of copies, chosen on its validation split (docs/methods.md, "Choices made
# on validation": supervised at 20 labels per class, 3 seeds, val UA 48.9 ± 4.4 without copies, 43.6 ± 5.6 with one).
BUILTIN_COPIES = 0


def copies_for(tcfg, corpus_name: str) -> int:
    """How many re-recorded copies of each labeled clip a run takes.

    ``tcfg.channel_copies`` when it is set; when it is None (the default),
    the corpus's own default: ``BUILTIN_COPIES`` on the built-in corpus
    (decided on its validation split, whose speakers are recorded like the
    labeled ones), and 0 on real corpora, whose unlabeled pool comes from the
    same recordings as the labeled clips (there is no other channel to
    prepare the model for). ``channel_copies=1`` turns the copies on.
    """
    if tcfg.channel_copies is not None:
        return int(tcfg.channel_copies)
    return BUILTIN_COPIES if corpus_name == "builtin" else 0


def _rerecord_copies(waves, seeds, sr):
    return [rerecord(w, np.random.default_rng(s), sr) for w, s in zip(waves, seeds)]


def channel_copies(clips, idx, tcfg, key: str | None = None, n_jobs: int = 2) -> list[list[torch.Tensor]]:
    """Features of ``copies_for(tcfg, clips.name)`` re-recorded copies
    (``rerecord``) of the clips at positions ``idx``: one list per copy,
    aligned with ``idx``.

    Multi-condition training: a model that has heard its labeled clips through
    many rooms and microphones is less often sure and wrong on recordings from
    another channel (domain B). Each copy's room and microphone are drawn from
    the clip's position and the copy's number, so the copies do not depend on
    the run's seed or on ``n_jobs`` (worker processes) and are cached on disk
    once per corpus (``key``), feature setting, ``COPIES_VERSION`` and the
    versions of pyroomacoustics and audiomentations.
    """
    from importlib.metadata import version
    k = copies_for(tcfg, clips.name)
    idx = np.asarray(idx)
    libs = {lib: version(lib) for lib in ("pyroomacoustics", "audiomentations")}
    tag = stage_key("features", tcfg, extra={**VERSIONS, "copies_version": COPIES_VERSION, "copies": k,
                                             "ranges": RECORDING_RANGES, **libs})
    path = cache_dir() / f"copies-{key}-{tag}.npz" if key else None
    z = load_arrays(path) if path is not None and path.exists() else None
    if z is not None and np.array_equal(z["idx"], idx):
        flat = _split_sequences(z)
    else:
        jobs = [(clips.waves[i], [int(i), c, 7]) for c in range(k) for i in idx]
        chunks = np.array_split(np.arange(len(jobs)), max(1, min(len(jobs), 8 * n_jobs)))
        parts = [[jobs[j] for j in ch] for ch in chunks if len(ch)]
        if n_jobs > 1 and len(parts) > 1:
            from joblib import Parallel, delayed
            done = Parallel(n_jobs=n_jobs)(delayed(_rerecord_copies)(*zip(*p), clips.sr) for p in parts)
        else:
            done = [_rerecord_copies(*zip(*p), clips.sr) for p in parts]
        flat = _features_of([w for d in done for w in d], clips.sr, tcfg)
        if path is not None:
            _save_sequences(path, flat, idx=idx)
    return [flat[c * len(idx):(c + 1) * len(idx)] for c in range(k)]


def normalisation_stats(feats: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-bin mean and standard deviation over all frames of ``feats``
    (pass the training split only)."""
    allf = torch.cat(feats)
    return allf.mean(0), allf.std(0).clamp_min(1e-3)


NORMS = ("pool", "utterance_mean", "utterance", "speaker")


def group_normalise(feats: list[torch.Tensor], how: str = "pool", groups=None) -> list[torch.Tensor]:
    """Remove what a recording (or a speaker) adds to every frame, before the pool's z-score.

    how : ``pool`` (nothing here: the training pool's statistics alone, the
        paper's setting), ``utterance_mean`` (subtract each clip's own mean per
        bin: a gain or a microphone colour is an additive constant in the log
        domain, so it vanishes), ``utterance`` (subtract the mean and divide
        by the standard deviation per bin: cepstral mean and variance
        normalisation, CMVN), ``speaker`` (mean and standard deviation per bin
        over all clips of the speaker, ``groups``: keeps how a clip differs
        from its speaker's usual voice, e.g. a raised pitch, and removes the
        speaker's own pitch and a channel that stays with the speaker).
    groups : one speaker id per clip (``speaker`` only). No labels are used;
        a speaker's statistics come from all of their clips, as speaker
        normalisation in SER systems does.
    """
    if how == "pool":
        return list(feats)
    if how == "utterance_mean":
        return [f - f.mean(0) for f in feats]
    if how == "utterance":
        return [(f - f.mean(0)) / f.std(0).clamp_min(1e-3) if len(f) > 1 else f - f.mean(0) for f in feats]
    if how == "speaker":
        if groups is None:
            raise ValueError("norm='speaker' needs one speaker id per clip")
        groups = np.asarray(groups)
        out: list = [None] * len(feats)
        for g in np.unique(groups):
            idx = np.flatnonzero(groups == g)
            m, s = normalisation_stats([feats[i] for i in idx])
            for i in idx:
                out[i] = (feats[i] - m) / s
        return out
    raise ValueError(f"norm={how!r} is not known; choose one of {', '.join(NORMS)}")
