"""A source-filter speech synthesizer with emotional prosody.

Speech is a sound source filtered by the vocal tract (Fant 1960). Here the
source is a glottal pulse train that follows an F0 contour, with cycle-to-
cycle irregularity (jitter in period, shimmer in amplitude), a spectral tilt
(how fast the source's harmonics fall off, in dB per octave) and aspiration
noise (breathiness). The filter is a set of vowel formant resonators
(Peterson & Barney 1952), scaled by the speaker's vocal-tract factor.
Consonant-like noise bursts open each syllable; syllables follow each other
at the speaking rate.

Emotion changes the prosody and the voice quality, in the directions and
rough sizes reported by Murray & Arnott (1993), Banse & Scherer (1996) and
Juslin & Laukka (2003); the table ``VOICE_CUES`` holds the values from
``docs/emotion-cues.md``. An ``intensity`` in [0, 1], multiplied by
the speaker's own expressivity, moves every cue linearly from neutral
towards the emotion's full value. Arousal (angry and happy against sad) is
carried by pitch, loudness and rate, and is easy to hear; valence (happy
against angry) differs mainly in contour shape and spectral tilt, and is the
hard pair, as in real speech. Natural speech gives only a share of its clips the
emotion's contour shape (``shape_match``; Bänziger & Scherer 2005), which
makes that pair harder still.

The words are not real: vowels and consonant bursts follow each other at
random, like a language the listener does not know.

References
----------
Banse, R., & Scherer, K. R. (1996). Acoustic profiles in vocal emotion
expression. Journal of Personality and Social Psychology, 70(3), 614-636.

Bänziger, T., & Scherer, K. R. (2005). The role of intonation in emotional
expressions. Speech Communication, 46(3-4), 252-267.

Fant, G. (1960). Acoustic theory of speech production. Mouton.

Juslin, P. N., & Laukka, P. (2003). Communication of emotions in vocal
expression and music performance: different channels, same code?
Psychological Bulletin, 129(5), 770-814.

Klatt, D. H. (1980). Software for a cascade/parallel formant synthesizer.
Journal of the Acoustical Society of America, 67(3), 971-995.

Murray, I. R., & Arnott, J. L. (1993). Toward the simulation of emotion in
synthetic speech: a review of the literature on human vocal emotion. Journal
of the Acoustical Society of America, 93(2), 1097-1108.

Peterson, G. E., & Barney, H. L. (1952). Control methods used in a study of
the vowels. Journal of the Acoustical Society of America, 24(2), 175-184.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import fft, signal
from scipy.ndimage import uniform_filter1d

# Full-intensity cue values (docs/emotion-cues.md, "Suggested starting values").
# f0: mean F0 factor; range_st: std of the contour in semitones; level_db:
# loudness change; rate: syllables per second; tilt: source spectral tilt in
# dB/octave; jitter: period irregularity in %; breath: aspiration noise
# ratio; attack: syllable onset time in seconds (fast for angry, slow for sad).
VOICE_CUES: dict[str, dict[str, float]] = {
    "neutral": dict(f0=1.00, range_st=2.0, level_db=0.0, rate=4.5, tilt=-12.0, jitter=1.0, breath=0.05, attack=0.030),
    "happy":   dict(f0=1.25, range_st=4.0, level_db=3.0, rate=5.2, tilt=-10.0, jitter=1.0, breath=0.08, attack=0.030),
    "sad":     dict(f0=0.90, range_st=1.0, level_db=-4.0, rate=3.5, tilt=-15.0, jitter=1.8, breath=0.15, attack=0.060),
    "angry":   dict(f0=1.20, range_st=3.5, level_db=6.0, rate=5.5, tilt=-6.0, jitter=1.5, breath=0.03, attack=0.012),
}
# Contour shapes (Murray & Arnott 1993, Table I): how the pitch moves within a
# syllable and over the utterance.
CONTOURS = {"neutral": "declination", "happy": "rising", "sad": "falling", "angry": "accents"}

# Vowel formants F1-F3 of an adult male voice, Hz (Peterson & Barney 1952).
VOWELS = {
    "i": (270, 2290, 3010), "e": (530, 1840, 2480), "a": (730, 1090, 2440),
    "o": (570, 840, 2410), "u": (300, 870, 2240),
}
FORMANT_BW = (80.0, 110.0, 160.0)  # bandwidths, Hz


@dataclass
class Speaker:
    """One simulated talker: what makes their voice theirs.

    The fields take any value; the ranges below are those ``random_speaker``
    draws from (docs/emotion-cues.md).

    Attributes
    ----------
    id : str
        The speaker's name, as in the corpus table (e.g. "A003").
    sex : str
        "f" or "m". ``synthesize`` does not read it; ``random_speaker``
        draws ``f0`` and ``vtl`` from the ranges of that sex.
    f0 : float
        Base pitch in Hz, which the emotion's F0 factor and the contour
        multiply: women 180-240, men 95-135.
    vtl : float
        Vocal-tract factor: every formant frequency (Peterson & Barney 1952)
        is multiplied by it, so above 1 means a shorter tract and higher
        formants. Women 1.08-1.18, men 0.88-1.02.
    expressivity : float
        How much this person's voice changes with emotion: it multiplies
        the intensity (``cues_for``), and where intensity * expressivity is
        0.2 or less the emotion's contour shape gives way to the neutral
        declination (``synthesize``). Normal around 1 (sd 0.2), clipped to
        [0.4, 1.3].
    rate : float
        Personal speaking-rate factor that multiplies the emotion's
        syllables per second: 0.85-1.15.
    """
    id: str
    sex: str
    f0: float
    vtl: float
    expressivity: float
    rate: float


def random_speaker(rng: np.random.Generator, sid: str, expressivity_sd: float | None = None) -> Speaker:
    """Draw a speaker with the variation real corpora have (docs/emotion-cues.md).

    Women and men are equally likely; the ranges of every field are listed under
    ``Speaker``. ``rng`` (a ``numpy.random.Generator``) is the only source of
    randomness and ``sid`` becomes the speaker's ``id``.

    ``expressivity_sd`` None: actors, expressivity N(1, 0.2) clipped to
    [0.4, 1.3]. A number: people in natural conversation, who differ far more
    in how much they show: expressivity exp(N(0, sd)), clipped to [0.2, 3]
    (sd 0.45: the middle half of speakers between 0.74 and 1.35). Both come
    from the same normal draw, so a speaker keeps their voice in both styles.
    """
    sex = "f" if rng.random() < 0.5 else "m"
    f0 = rng.uniform(180, 240) if sex == "f" else rng.uniform(95, 135)
    vtl = (rng.uniform(1.08, 1.18) if sex == "f" else rng.uniform(0.88, 1.02))
    z = rng.normal(1.0, 0.2)
    expressivity = np.clip(z, 0.4, 1.3) if expressivity_sd is None else np.clip(np.exp(expressivity_sd * (z - 1.0) / 0.2), 0.2, 3.0)
    return Speaker(sid, sex, float(f0), float(vtl), expressivity=float(expressivity),
                   rate=float(rng.uniform(0.85, 1.15)))


def cues_for(emotion: str, intensity: float, expressivity: float = 1.0,
             blend: tuple[str, float] | None = None) -> dict[str, float]:
    """The cue values of ``emotion`` at ``intensity`` for a speaker.

    Each cue moves linearly from the neutral value towards the emotion's
    full value by ``intensity * expressivity`` (docs/emotion-cues.md); the
    full values (``VOICE_CUES``) follow Murray & Arnott (1993), Banse &
    Scherer (1996) and Juslin & Laukka (2003). ``blend`` (an emotion and a
    strength) adds a second emotion's move from neutral on top: a mixed
    emotion (sad with a touch of anger). The total move is capped at the
    full values (strength 1).

    Returns
    -------
    dict of str to float
        The keys of ``VOICE_CUES["neutral"]``: f0, range_st, level_db, rate,
        tilt, jitter, breath, attack.

    Raises
    ------
    ValueError
        For an unknown emotion, or an intensity out of [0, 1].
    """
    if emotion not in VOICE_CUES:
        raise ValueError(f"emotion={emotion!r} is not known; choose one of {', '.join(VOICE_CUES)}")
    if not 0.0 <= intensity <= 1.0:
        raise ValueError(f"intensity={intensity} is out of range; allowed range is [0, 1]")
    k = intensity * expressivity
    neu, emo = VOICE_CUES["neutral"], VOICE_CUES[emotion]
    if blend is None:
        return {c: neu[c] + k * (emo[c] - neu[c]) for c in neu}
    other, k2 = blend
    scale = min(1.0, 1.0 / max(k + k2, 1e-9))
    return {c: neu[c] + scale * (k * (emo[c] - neu[c]) + k2 * (VOICE_CUES[other][c] - neu[c])) for c in neu}


def _syllables(duration: float, rate: float, rng) -> np.ndarray:
    """Syllable onset times (s): a jittered rhythm at ``rate`` per second."""
    n = max(2, int(round(duration * rate)))
    lengths = rng.gamma(8.0, 1.0 / (8.0 * rate), n)
    t = np.concatenate([[0.05], 0.05 + np.cumsum(lengths)[:-1]])
    return t[t < duration - 0.12]


def _st_contour(n: int, sr: int, onsets: np.ndarray, cue: dict, shape: str, rng,
                scale_falls: bool = False) -> np.ndarray:
    """Per-sample pitch in semitones re the emotion's mean F0: syllable targets spread by
    ``cue["range_st"]``, plus the shape's glides within syllables and its fall over the utterance
    (fixed in semitones, or with ``scale_falls`` scaled by ``range_st`` relative to neutral's)."""
    t = np.arange(n) / sr
    dur = n / sr
    k = np.searchsorted(onsets, t, side="right") - 1          # syllable index per sample
    k = np.clip(k, 0, len(onsets) - 1)
    targets = rng.normal(0.0, cue["range_st"], len(onsets))
    pos = (t - onsets[k]) / np.maximum(np.diff(np.append(onsets, dur))[k], 1e-3)  # 0..1 within syllable
    r = cue["range_st"] / VOICE_CUES["neutral"]["range_st"] if scale_falls else 1.0
    if shape == "declination":
        st = targets[k] * 0.6 - 2.0 * r * t / dur
    elif shape == "rising":     # smooth rising inflections (happy)
        st = targets[k] * 0.5 + cue["range_st"] * 0.8 * pos - 1.0 * r * t / dur
    elif shape == "falling":    # narrow range, falling contour (sad)
        st = targets[k] * 0.5 - cue["range_st"] * 0.5 * pos - 3.0 * r * t / dur
    elif shape == "accents":    # abrupt peaks on stressed syllables (angry)
        stressed = rng.random(len(onsets)) < 0.4
        st = targets[k] * 0.4 + np.where(stressed[k], cue["range_st"] * 1.2, 0.0) * np.exp(-4 * pos) - 1.5 * r * t / dur
    # smooth everything except the accents' abrupt steps
    win = int(sr * (0.015 if shape == "accents" else 0.06))
    return uniform_filter1d(st, win, mode="nearest")


@lru_cache(maxsize=None)
def _shape_spread(shape: str, draws: int = 64) -> float:
    """How much wider ``shape``'s 20-80 % pitch range is than the neutral declination's at the same
    ``range_st``: the mean over ``draws`` fixed 2-s contours at neutral's cues. 1 for declination."""
    def spread(s):
        out = []
        for j in range(draws):
            rng = np.random.default_rng([1993, j])
            st = _st_contour(32000, 16000, _syllables(2.0, 4.5, rng), VOICE_CUES["neutral"], s, rng)
            out.append(np.subtract(*np.percentile(st, [80, 20])))
        return float(np.mean(out))
    return 1.0 if shape == "declination" else spread(shape) / spread("declination")


def _f0_contour(n: int, sr: int, onsets: np.ndarray, base: float, cue: dict, shape: str, rng,
                whole_range: bool = False) -> np.ndarray:
    """Per-sample F0 (Hz) along ``_st_contour``.

    With ``whole_range`` False (the acted style) ``range_st`` spreads the syllable targets only; each shape
    adds fixed glides and falls, so the range a pitch tracker measures is not ``range_st``'s (sad's
    3-semitone fall makes it about as wide as neutral's, ``bench.cue_by_strength``). With ``whole_range`` True
    (the natural style) the falls scale with ``range_st`` too and the contour is divided by its shape's
    spread (``_shape_spread``), so the measured range follows ``range_st`` for every shape."""
    st = _st_contour(n, sr, onsets, cue, shape, rng, scale_falls=whole_range)
    if whole_range:
        st = st / _shape_spread(shape)
    return base * cue["f0"] * 2.0 ** (st / 12.0)


def _pulse_train(f0: np.ndarray, sr: int, jitter_pct: float, rng) -> np.ndarray:
    """Glottal impulses at the instants where the F0 phase crosses an integer,
    with jitter (period noise) and shimmer (amplitude noise, tied to jitter)."""
    # per-cycle period noise ~ jitter %, as slowly varying frequency noise
    noise = rng.normal(0, jitter_pct / 100.0, len(f0) // 64 + 2)
    noise = np.interp(np.arange(len(f0)) / 64.0, np.arange(len(noise)), noise)
    phase = np.cumsum(f0 * (1.0 + noise) / sr)
    idx = np.flatnonzero(np.diff(np.floor(phase)) > 0) + 1
    src = np.zeros(len(f0))
    shimmer = 1.0 + rng.normal(0, 2.5 * jitter_pct / 100.0, len(idx))
    src[idx] = shimmer
    return src


def _tilt(x: np.ndarray, sr: int, db_per_octave: float, ref_hz: float = 150.0) -> np.ndarray:
    """Impose a spectral slope of ``db_per_octave`` above ``ref_hz`` (FFT filter)."""
    m = fft.next_fast_len(len(x), real=True)  # FFTs of awkward lengths are slow
    spec = fft.rfft(x, n=m)
    f = fft.rfftfreq(m, 1.0 / sr)
    octaves = np.log2(np.maximum(f, ref_hz) / ref_hz)
    return fft.irfft(spec * 10.0 ** (db_per_octave * octaves / 20.0), n=m)[: len(x)]


def _resonator(freq: float, bw: float, sr: int):
    """A two-pole formant resonator (Klatt 1980) with unit gain at DC."""
    r = np.exp(-np.pi * bw / sr)
    a = [1.0, -2.0 * r * np.cos(2 * np.pi * freq / sr), r * r]
    return [sum(a)], a


def _envelope(n: int, sr: int, onsets: np.ndarray, attack: float, rng) -> np.ndarray:
    """Syllable amplitude envelope: attack, sustain, decay; random stress."""
    t = np.arange(n) / sr
    env = np.zeros(n)
    ends = np.append(onsets[1:], n / sr)
    stress = rng.uniform(0.6, 1.0, len(onsets))
    for on, off, s in zip(onsets, ends, stress):
        v0 = on + 0.04                       # vowel starts after the consonant
        v1 = max(v0 + 0.05, off - 0.03)
        m = (t >= v0) & (t < off)
        tt = t[m] - v0
        env[m] = s * np.minimum(1.0, tt / attack) * np.clip((off - t[m]) / max(off - v1, 1e-3), 0, 1)
    return env


@lru_cache(maxsize=64)
def _burst_filter(kind: int, sr: int):
    """Band-pass filters for consonant bursts: four places of articulation."""
    lo = (1500.0, 2300.0, 3100.0, 4000.0)[kind]
    return signal.butter(2, [lo / (sr / 2), min(0.95, (lo + 2500) / (sr / 2))], btype="band")


def synthesize(emotion: str, intensity: float, speaker: Speaker, duration: float,
               rng: np.random.Generator, sr: int = 16000, blend: tuple[str, float] | None = None,
               strength_cap: float | None = None, whole_range: bool = False,
               shape_match: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """One utterance of ``duration`` seconds by ``speaker`` in ``emotion``.

    A source-filter synthesis (Fant 1960): a jittered glottal pulse train
    along an F0 contour shaped by the emotion (Murray & Arnott 1993), with
    spectral tilt and aspiration noise, through a cascade of two-pole formant
    resonators (Klatt 1980) for each vowel (Peterson & Barney 1952), plus
    consonant-like noise bursts at the syllable onsets. The cue values come
    from ``cues_for``.

    Parameters
    ----------
    emotion : str
        A key of ``VOICE_CUES``.
    intensity : float in [0, 1]
        How far the cues move from neutral towards the emotion.
    speaker : Speaker
    duration : float
        Seconds, > 0.
    rng : numpy.random.Generator
        Source of every random choice; the same state gives the same sound.
    sr : int, default 16000
        Sampling rate, Hz.
    blend : (emotion, strength) or None
        A second emotion mixed into the cues (``cues_for``); the contour
        shape stays the first emotion's.
    strength_cap : float or None
        Caps intensity * expressivity (natural speakers with expressivity
        above 1 reach the full cue values, not beyond them).
    whole_range : bool, default False
        True: ``range_st`` sets the range of the whole F0 contour, glides and
        fall included (the natural style); False: the spread of the syllable
        targets only (the acted style). See ``_f0_contour``.
    shape_match : float in [0, 1], default 1
        The chance that the contour has the emotion's shape (``CONTOURS``);
        otherwise it takes one of the four shapes at random: emotions differ
        mostly in F0 level and range, little in the contour's shape (Bänziger
        & Scherer 2005). At 1 (the acted style) no random number is drawn
        for it.

    Returns
    -------
    wave : numpy.ndarray
        float32, shape (n,) with n = int(duration * sr): clean speech before
        the channel, peak about 0.15.
    envelope : numpy.ndarray
        float64, shape (n,): the syllable loudness envelope in [0, 1] (a
        talking face opens its mouth with it).

    Raises
    ------
    ValueError
        For a duration <= 0, an unknown emotion or an intensity out of [0, 1].
    """
    if duration <= 0:
        raise ValueError(f"duration={duration} must be positive")
    expressivity = speaker.expressivity
    if strength_cap is not None and intensity * expressivity > strength_cap:
        expressivity = strength_cap / max(intensity, 1e-9)
    cue = cues_for(emotion, intensity, expressivity, blend)
    n = int(duration * sr)
    onsets = _syllables(duration, cue["rate"] * speaker.rate, rng)
    strong = intensity * expressivity > 0.2  # weaker voices keep the neutral declination
    shape = CONTOURS[emotion] if strong else "declination"
    if strong and shape_match < 1.0 and rng.random() >= shape_match:
        shape = str(rng.choice(list(CONTOURS.values())))
    f0 = _f0_contour(n, sr, onsets, speaker.f0, cue, shape, rng, whole_range=whole_range)

    # source: pulses with spectral tilt, plus aspiration noise
    src = _tilt(_pulse_train(f0, sr, cue["jitter"], rng), sr, cue["tilt"] + 6.0)  # +6: lip radiation
    src /= np.std(src) + 1e-9
    asp = signal.lfilter([1, -0.9], [1], rng.normal(0, 1, n))  # high-passed noise
    src = src + cue["breath"] * 4.0 * asp / (np.std(asp) + 1e-9)

    # filter: each vowel's resonator cascade, cross-faded syllable by syllable
    names = list(VOWELS)
    choice = rng.integers(0, len(names), len(onsets))
    k = np.clip(np.searchsorted(onsets, np.arange(n) / sr, side="right") - 1, 0, len(onsets) - 1)
    voiced = np.zeros(n)
    for v in np.unique(choice):
        y = src
        for fhz, bw in zip(VOWELS[names[v]], FORMANT_BW):
            b, a = _resonator(fhz * speaker.vtl, bw, sr)
            y = signal.lfilter(b, a, y)
        mask = uniform_filter1d((choice[k] == v).astype(float), 400)  # 25 ms coarticulation
        voiced += mask * y
    env = _envelope(n, sr, onsets, cue["attack"], rng)
    voiced *= env

    # consonant-like noise bursts at syllable onsets (band-passed, 20-60 ms)
    burst = np.zeros(n)
    for on in onsets:
        i0, L = int(on * sr), int(rng.uniform(0.02, 0.06) * sr)
        b, a = _burst_filter(int(rng.integers(0, 4)), sr)
        seg = signal.lfilter(b, a, rng.normal(0, 1, L)) * np.hanning(L)
        burst[i0:i0 + L] += seg[: max(0, min(L, n - i0))] * rng.uniform(0.2, 0.6)
    # speech at about -30 dBFS RMS leaves headroom for +6 dB emotion and channel gains without clipping
    wave = voiced / (np.std(voiced[env > 0.1]) + 1e-9) * 0.03 + burst * 0.03
    wave *= 10.0 ** (cue["level_db"] / 20.0)
    return wave.astype(np.float32), env

