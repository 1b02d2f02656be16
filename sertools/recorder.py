"""An outside room and microphone: how the multi-condition copies re-record a clip.

The speech model's multi-condition copies (``audio.channel_copies``) play
each labeled clip again through a random room and microphone. They must not
use the built-in corpus's own channel code (``sertools.rooms``, which makes
its domain B): a user of a real corpus does not have the generator of the
domain they will meet, so a copy that drew from it would know too much.
This module therefore uses two outside libraries and never imports
``sertools.rooms``:

- the room: a shoebox room simulated by **pyroomacoustics** (Scheibler et
  al. 2018), the image-source method (Allen & Berkley 1979; Habets 2006)
  for the direct path and the reflections up to ``ISM_ORDER``, and
  pyroomacoustics' ray tracer for the late reverberation (its "hybrid"
  simulator), the wall absorption set by Sabine's formula for a target
  RT60 (``pra.inverse_sabine``);
- the microphone: a chain of **audiomentations** transforms the corpus has
  no analogue of: white self-noise at an SNR that then passes, like the
  voice, through the microphone's band (a high-pass and a low-pass
  Butterworth filter, so the noise is band-limited, a spectrum the corpus's
  1/f**colour noise never has), a soft saturation of the preamplifier
  (tanh) and a gain.

Every parameter is drawn from ``RECORDING_RANGES`` with the clip's own
generator (``draw_recording``), and the libraries' own random streams are
seeded from that draw, so a copy is the same for a seed in any process.
"""
from __future__ import annotations

import contextlib
import random as _pyrandom

import numpy as np

# The ranges each re-recording is drawn from, uniformly (docs/methods.md,
# "Multi-condition copies: an outside room model", says where they come from).
RECORDING_RANGES = {
    "room_length_m": (3.0, 8.0),      # office and home rooms: a 3 x 2.5 m study to an 8 x 6 m meeting or living room
    "room_width_m": (2.5, 6.0),
    "room_height_m": (2.4, 3.5),      # residential and office ceilings
    "rt60_s": (0.2, 0.8),             # furnished rooms to bare, reflective ones (Sabine target)
    "source_height_m": (1.2, 1.8),    # a seated or a standing talker's mouth
    "mic_height_m": (0.7, 1.5),       # a desk, a laptop, a hand-held phone
    "distance_m": (0.5, 3.0),         # talker to microphone: close to across the room
    "snr_db": (10.0, 30.0),           # the microphone's self-noise and the room's hiss
    "highpass_hz": (50.0, 300.0),     # low-cut of the capsule: full range to telephone-like
    "lowpass_hz": (3400.0, 7500.0),   # high-cut: telephone band to nearly the full 8 kHz
    "distortion": (0.0, 0.3),         # audiomentations' TanhDistortion amount: clean to a mildly driven preamp
    "gain_db": (-6.0, 6.0),           # the recording level
}
WALL_MARGIN_M = 0.5   # talker and microphone keep this far from every wall
ISM_ORDER = 3         # image sources up to this order; ray tracing does the rest of the tail
SCATTERING = 0.1      # share of the energy the walls scatter diffusely: the decay then follows the RT60 target
RAY_ENERGY_THRES = 1e-5  # a ray stops at -50 dB (below every noise floor of RECORDING_RANGES): a shorter, faster tail
ROLLOFF_DB = 12       # the filters' slope, dB per octave (a second-order Butterworth)


def draw_recording(rng) -> dict:
    """One room and microphone, drawn with ``rng`` (``numpy.random.Generator``).

    Returns a dict: ``room_m`` (length, width, height), ``rt60_s``,
    ``source_m`` and ``mic_m`` (positions, metres), ``distance_m``, the
    microphone chain's ``snr_db``, ``highpass_hz``, ``lowpass_hz``,
    ``distortion``, ``gain_db``, and ``seed`` (for the libraries' own
    random streams). The talker stands anywhere at least ``WALL_MARGIN_M``
    from the walls; the microphone is placed uniformly among the positions
    that keep the margin and lie ``distance_m`` from the talker (by
    rejection, at most 1000 tries, then the nearest allowed distance).
    """
    u = lambda k: float(rng.uniform(*RECORDING_RANGES[k]))  # noqa: E731
    room = np.array([u("room_length_m"), u("room_width_m"), u("room_height_m")])
    rt60 = u("rt60_s")
    lo, hi = WALL_MARGIN_M, room - WALL_MARGIN_M
    src = np.array([rng.uniform(lo, hi[0]), rng.uniform(lo, hi[1]), u("source_height_m")])
    dmin, dmax = RECORDING_RANGES["distance_m"]
    mic = None
    for _ in range(1000):
        cand = np.array([rng.uniform(lo, hi[0]), rng.uniform(lo, hi[1]), u("mic_height_m")])
        if dmin <= np.linalg.norm(cand - src) <= dmax:
            mic = cand
            break
    if mic is None:  # not reached with the ranges above; kept so a narrower range cannot loop forever
        mic = src + np.array([dmin, 0.0, 0.0]) if src[0] + dmin <= hi[0] else src - np.array([dmin, 0.0, 0.0])
    draw = {"room_m": room.tolist(), "rt60_s": rt60, "source_m": src.tolist(), "mic_m": mic.tolist(),
            "distance_m": float(np.linalg.norm(mic - src))}
    for k in ("snr_db", "highpass_hz", "lowpass_hz", "distortion", "gain_db"):
        draw[k] = u(k)
    draw["seed"] = int(rng.integers(2**31))
    return draw


def room_impulse_response(draw: dict, sr: int = 16000) -> np.ndarray:
    """The room's impulse response from the talker to the microphone of ``draw``,
    aligned so that the direct path arrives at sample 0 (float64, shape (L,)).

    pyroomacoustics' hybrid simulator: a ``ShoeBox`` whose walls absorb the
    energy share that Sabine's formula gives for ``rt60_s`` (``inverse_sabine``),
    image sources up to ``ISM_ORDER`` and ray tracing after them, no air
    absorption (at 0.5-3 m it is negligible). The ray tracer's and the
    image sources' random streams are seeded from ``draw["seed"]``.
    """
    import pyroomacoustics as pra
    dims = np.asarray(draw["room_m"], float)
    e_absorption, _ = pra.inverse_sabine(draw["rt60_s"], dims)
    pra.random.seed(numpy=draw["seed"], libroom=draw["seed"])
    room = pra.ShoeBox(dims, fs=sr, materials=pra.Material(e_absorption, SCATTERING), max_order=ISM_ORDER,
                       ray_tracing=True, air_absorption=False)
    room.set_ray_tracing(energy_thres=RAY_ENERGY_THRES)
    room.add_source(list(draw["source_m"]))
    room.add_microphone(list(draw["mic_m"]))
    room.compute_rir()
    h = np.asarray(room.rir[0][0], float)
    # the direct path: the distance's delay plus half the fractional-delay filter pyroomacoustics centres it with
    n0 = int(round(draw["distance_m"] / pra.constants.get("c") * sr)) + pra.constants.get("frac_delay_length") // 2
    return h[n0:]


@contextlib.contextmanager
def _seeded_globals(seed: int):
    """Seed Python's and NumPy's global generators (audiomentations draws from
    them) for the block, and put back the caller's states afterwards."""
    py_state, np_state = _pyrandom.getstate(), np.random.get_state()
    _pyrandom.seed(seed)
    np.random.seed(seed)
    try:
        yield
    finally:
        _pyrandom.setstate(py_state)
        np.random.set_state(np_state)


def microphone(wave: np.ndarray, draw: dict, sr: int = 16000) -> np.ndarray:
    """The microphone chain of ``draw`` applied to ``wave`` (float32 out, same length):
    audiomentations' ``AddGaussianSNR`` (white noise at ``snr_db``), then
    ``HighPassFilter`` and ``LowPassFilter`` (``ROLLOFF_DB`` dB/octave
    Butterworth at ``highpass_hz``, ``lowpass_hz``), ``TanhDistortion``
    (``distortion``, loudness kept) and ``Gain`` (``gain_db``). Each
    transform gets its drawn value as both ends of its range, so nothing is
    drawn twice; the noise samples come from ``draw["seed"]``."""
    from audiomentations import AddGaussianSNR, Compose, Gain, HighPassFilter, LowPassFilter, TanhDistortion
    d = draw
    chain = Compose([
        AddGaussianSNR(min_snr_db=d["snr_db"], max_snr_db=d["snr_db"], p=1.0),
        HighPassFilter(min_cutoff_freq=d["highpass_hz"], max_cutoff_freq=d["highpass_hz"],
                       min_rolloff=ROLLOFF_DB, max_rolloff=ROLLOFF_DB, p=1.0),
        LowPassFilter(min_cutoff_freq=d["lowpass_hz"], max_cutoff_freq=d["lowpass_hz"],
                      min_rolloff=ROLLOFF_DB, max_rolloff=ROLLOFF_DB, p=1.0),
        TanhDistortion(min_distortion=d["distortion"], max_distortion=d["distortion"], p=1.0),
        Gain(min_gain_db=d["gain_db"], max_gain_db=d["gain_db"], p=1.0),
    ], p=1.0)
    with _seeded_globals(d["seed"]):
        return chain(samples=np.asarray(wave, np.float32), sample_rate=sr).astype(np.float32)


def record(wave: np.ndarray, draw: dict, sr: int = 16000) -> np.ndarray:
    """``wave`` played in the room of ``draw`` and picked up by its microphone.

    The reverberant signal is cut to the clip's length (the direct path stays
    where the voice was) and scaled back to the dry clip's RMS before the
    microphone chain, so its level is set by ``gain_db`` alone. Returns
    float32, the shape of ``wave``, clipped to [-1, 1] like a converter.
    """
    from scipy.signal import fftconvolve
    x = np.asarray(wave, np.float64)
    wet = fftconvolve(x, room_impulse_response(draw, sr))[: len(x)]
    wet *= np.sqrt(np.mean(x ** 2) / (np.mean(wet ** 2) + 1e-20))
    return np.clip(microphone(wet, draw, sr), -1.0, 1.0).astype(np.float32)
