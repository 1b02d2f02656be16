"""Rooms and microphones: reverberation, coloured noise and gain applied to a wave.

The built-in corpus plays each clean voice through a room and a microphone
to give its two recording domains their channels (``sertools.synth.corpus``:
a quiet studio for domain A, noisier, reverberant rooms for domain B). This
is the corpus's own generator: the speech model's re-recorded copies do not
use it (they would know domain B's channels; ``sertools.recorder`` is their
outside model). ``apply_channel`` does it in three steps:
reverberation (a direct path and exponentially decaying noise, the
simplest model of a room's late reverberation, Schroeder 1962), noise of a
chosen colour at a signal-to-noise ratio, then the gain of the microphone
chain.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft, signal


@dataclass
class Channel:
    """Microphone and room, as ``apply_channel`` applies them.

    Attributes
    ----------
    snr_db : float
        Signal-to-noise ratio of the added noise, dB.
    colour : float
        Noise colour: power spectrum 1/f**colour (0 white, 1 pink, 2 brown).
    gain_db : float
        Gain of the microphone chain, dB.
    rt60 : float
        Reverberation time in seconds (the time the room's echo takes to
        decay by 60 dB); 0 for no reverberation.
    """
    snr_db: float = 20.0
    colour: float = 1.0
    gain_db: float = 0.0
    rt60: float = 0.0


def colored_noise(n: int, colour: float, rng) -> np.ndarray:
    """Noise with power spectrum 1/f**colour (0 white, 1 pink, 2 brown), unit std.

    Made by shaping white Gaussian noise in the frequency domain; ``rng`` is
    a ``numpy.random.Generator``.

    Returns
    -------
    numpy.ndarray
        float64, shape (n,), zero mean.
    """
    m = fft.next_fast_len(n, real=True)
    spec = fft.rfft(rng.normal(0, 1, m))
    f = fft.rfftfreq(m)
    spec *= 1.0 / np.maximum(f, 1.0 / m) ** (colour / 2.0)
    x = fft.irfft(spec, n=m)[:n]
    x -= x.mean()  # brown noise drifts: without this its power would exceed the SNR's
    return x / (np.std(x) + 1e-12)


def apply_channel(wave: np.ndarray, channel: Channel, rng, sr: int = 16000) -> np.ndarray:
    """Room and microphone: reverberation (exponentially decaying noise
    impulse response of the given RT60), noise at the SNR, then the gain.

    Parameters
    ----------
    wave : numpy.ndarray
        Float, shape (n,): clean speech, e.g. from ``synthesize``.
    channel : Channel
    rng : numpy.random.Generator
        Draws the impulse response and the noise.
    sr : int, default 16000
        Sampling rate, Hz.

    Returns
    -------
    numpy.ndarray
        float32, shape (n,), clipped to [-1, 1].
    """
    x = wave.astype(np.float64)
    if channel.rt60 > 0:
        L = int(channel.rt60 * sr)
        ir = rng.normal(0, 1, L) * np.exp(-6.9 * np.arange(L) / L)  # -60 dB at rt60
        ir[0] = 1.0 / 0.3
        x = signal.fftconvolve(x, ir * 0.3)[: len(x)]
    p_sig = np.mean(x ** 2) + 1e-12
    noise = colored_noise(len(x), channel.colour, rng) * np.sqrt(p_sig / 10.0 ** (channel.snr_db / 10.0))
    x = (x + noise) * 10.0 ** (channel.gain_db / 20.0)
    return np.clip(x, -1.0, 1.0).astype(np.float32)
