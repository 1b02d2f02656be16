"""The multi-condition copies' outside room model (sertools.recorder, audio.rerecord):
deterministic per seed, reverberant, drawn from the documented ranges, never
the corpus's own channel code, and off by default on real corpora. Each
mechanism test also runs its negative control: the same check with the
mechanism switched off, which must fail."""
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from sertools import recorder
from sertools.audio import channel_copies, copies_for, rerecord
from sertools.config import TrainConfig, get_config
from sertools.recorder import RECORDING_RANGES, WALL_MARGIN_M, draw_recording

SR = 16000
ROOT = Path(__file__).resolve().parents[1]


def voice_like(f0: float = 150.0, seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """A harmonic tone (10 harmonics falling 6 dB/octave) with a little noise."""
    t = np.arange(int(SR * seconds)) / SR
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 11))
    x = 0.05 * x + 0.001 * np.random.default_rng(seed).normal(size=len(t))
    return x.astype(np.float32)


def burst_then_silence(on_s: float = 0.5, off_s: float = 0.6) -> np.ndarray:
    """A voice-like burst, then digital silence: what follows the burst in a copy is the room's tail."""
    return np.concatenate([voice_like(seconds=on_s), np.zeros(int(off_s * SR), np.float32)])


def tail_over_floor_db(copy: np.ndarray, end: int) -> float:
    """Energy 10-60 ms after the burst's end over the energy of the clip's last 150 ms, dB:
    about 0 where the burst stops dead (noise alone after it), large where a tail decays."""
    early = copy[end + int(0.010 * SR): end + int(0.060 * SR)].astype(float)
    late = copy[-int(0.150 * SR):].astype(float)
    return float(10 * np.log10(np.mean(early ** 2) / np.mean(late ** 2)))


def toy_clips(name: str = "toy"):
    from sertools.clips import Clips
    waves, rows = [], []
    for split, spk in [("train", "a"), ("train", "b"), ("val", "c"), ("test", "d")]:
        for k, f0 in enumerate((120.0, 160.0, 200.0)):
            waves.append(voice_like(f0, seconds=0.6, seed=k))
            rows.append(dict(clip_id=f"{spk}{k}", split=split, speaker=spk, label=k % 2))
    return Clips(waves, pd.DataFrame(rows), ("low", "high"), SR, name=name)


# ------------------------------------------------------------- determinism

def test_a_copy_is_the_same_for_a_seed_and_leaves_the_global_generators_alone(monkeypatch):
    """rerecord(wave, default_rng(s)) is repeatable, differs from seed to seed and from
    the original, keeps the length and dtype, and puts back Python's and NumPy's global
    random states (audiomentations draws from them). Control: with the libraries'
    streams left unseeded (recorder._seeded_globals and pra.random.seed made no-ops),
    the same seed gives two different copies, so the equality is the seeding's doing."""
    wave = voice_like(seconds=0.8)
    random.seed(11)
    np.random.seed(11)
    before = (random.random(), np.random.random())
    random.seed(11)
    np.random.seed(11)
    a = rerecord(wave, np.random.default_rng(3))
    assert (random.random(), np.random.random()) == before                    # the caller's streams untouched
    b = rerecord(wave, np.random.default_rng(3))
    other = rerecord(wave, np.random.default_rng(4))
    assert a.shape == wave.shape and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, other, atol=1e-3)
    assert not np.allclose(a, wave, atol=1e-3)

    import contextlib
    import pyroomacoustics as pra
    monkeypatch.setattr(recorder, "_seeded_globals", lambda seed: contextlib.nullcontext())
    monkeypatch.setattr(pra.random, "seed", lambda *a, **k: None)
    c1 = rerecord(wave, np.random.default_rng(3))
    c2 = rerecord(wave, np.random.default_rng(3))
    assert not np.array_equal(c1, c2), "control: unseeded libraries should not repeat"


def test_the_copies_do_not_depend_on_the_number_of_workers():
    """Each copy's generator comes from the clip's position and the copy's number,
    so one process and two worker processes give the same features."""
    clips = toy_clips()
    _, tcfg = get_config("quick", channel_copies=2)
    train = clips.indices("train")
    one = channel_copies(clips, train, tcfg, key=None, n_jobs=1)
    two = channel_copies(clips, train, tcfg, key=None, n_jobs=2)
    assert all(torch.equal(x, y) for a, b in zip(one, two) for x, y in zip(a, b))
    assert not torch.equal(one[0][0], one[1][0])                                # the two copies differ


# ------------------------------------------------------------- reverberation

def test_a_copy_carries_the_rooms_decaying_tail_past_the_end_of_the_voice(monkeypatch):
    """After a burst stops, the copy keeps sounding: 10-60 ms later its energy is well
    above the noise floor of its last 150 ms (the room's tail), in every draw.
    Control: the same chain with the room replaced by a dry impulse (microphone and
    noise only) stops dead, and the check fails."""
    wave = burst_then_silence()
    end = int(0.5 * SR)
    wet = [tail_over_floor_db(rerecord(wave, np.random.default_rng(s)), end) for s in range(8)]
    assert min(wet) > 6.0, wet
    monkeypatch.setattr(recorder, "room_impulse_response", lambda draw, sr=SR: np.array([1.0]))
    dry = [tail_over_floor_db(rerecord(wave, np.random.default_rng(s)), end) for s in range(8)]
    assert max(dry) < 3.0, dry                                                 # control: no room, no tail


def t30(h: np.ndarray, sr: int = SR) -> float:
    """RT60 from the -5 to -35 dB span of the Schroeder backward integral (ISO 3382's T30)."""
    e = np.cumsum(h[::-1].astype(float) ** 2)[::-1]
    edb = 10 * np.log10(np.maximum(e / e[0], 1e-300))
    t5, t35 = np.argmax(edb <= -5), np.argmax(edb <= -35)
    return 2.0 * (t35 - t5) / sr


def test_the_rooms_impulse_response_decays_with_its_drawn_rt60():
    """The impulse response starts with the direct path (sample 0, aligned) and its
    Schroeder decay (T30) is within 0.6-1.5 times the drawn RT60. Control: a dry
    impulse (no room) measures far below the range's lower end."""
    ratios = []
    for s in range(6):
        d = draw_recording(np.random.default_rng([s, 0, 7]))
        h = recorder.room_impulse_response(d, SR)
        assert abs(h[0]) > 0.5 * np.abs(h[:40]).max()                          # the direct path leads
        ratios.append(t30(h) / d["rt60_s"])
    assert 0.6 < min(ratios) and max(ratios) < 1.5, ratios
    dry = np.zeros(SR // 2)
    dry[0] = 1.0
    assert t30(dry) < 0.1 * RECORDING_RANGES["rt60_s"][0]                      # control


# ------------------------------------------------------------- the documented ranges

def _violations(d: dict) -> list[str]:
    """What in a draw lies outside RECORDING_RANGES (and the wall margin)."""
    bad = []
    r = RECORDING_RANGES
    for k, v in zip(("room_length_m", "room_width_m", "room_height_m"), d["room_m"]):
        if not r[k][0] <= v <= r[k][1]:
            bad.append(k)
    for k in ("rt60_s", "distance_m", "snr_db", "highpass_hz", "lowpass_hz", "distortion", "gain_db"):
        if not r[k][0] <= d[k] <= r[k][1]:
            bad.append(k)
    if not r["source_height_m"][0] <= d["source_m"][2] <= r["source_height_m"][1]:
        bad.append("source_height_m")
    if not r["mic_height_m"][0] <= d["mic_m"][2] <= r["mic_height_m"][1]:
        bad.append("mic_height_m")
    for name in ("source_m", "mic_m"):
        p, room = np.asarray(d[name]), np.asarray(d["room_m"])
        if (p[:2] < WALL_MARGIN_M - 1e-9).any() or (p[:2] > room[:2] - WALL_MARGIN_M + 1e-9).any():
            bad.append(f"{name} margin")
    if abs(np.linalg.norm(np.subtract(d["mic_m"], d["source_m"])) - d["distance_m"]) > 1e-9:
        bad.append("distance")
    return bad


def test_every_draw_lies_in_the_documented_ranges_and_spans_them():
    """200 draws: every parameter inside RECORDING_RANGES (positions at least
    WALL_MARGIN_M from the walls), the RT60s and SNRs spread over most of their range,
    and the ranges the docstring of rerecord states are those of RECORDING_RANGES.
    Control: a draw with its RT60 moved outside the range is caught."""
    draws = [draw_recording(np.random.default_rng([s, 0, 7])) for s in range(200)]
    assert [b for d in draws if (b := _violations(d))] == []
    for k in ("rt60_s", "snr_db", "distance_m", "gain_db"):
        lo, hi = RECORDING_RANGES[k]
        vals = [d[k] for d in draws]
        assert max(vals) - min(vals) > 0.8 * (hi - lo), k
    doc = " ".join(rerecord.__doc__.split())
    for k, unit in (("rt60_s", " s"), ("snr_db", " dB SNR"), ("distance_m", " m from"), ("mic_height_m", " m high")):
        lo, hi = RECORDING_RANGES[k]
        assert f"{lo:g}-{hi:g}{unit}" in doc, (k, f"{lo:g}-{hi:g}{unit}")
    assert _violations({**draws[0], "rt60_s": 1.5}) == ["rt60_s"]              # control: the check can fail


# ------------------------------------------------------------- not the corpus's channel code

def test_the_copies_never_call_the_corpus_channel_code(monkeypatch):
    """With sertools.rooms' apply_channel and colored_noise made to raise (also under
    any name sertools.audio or sertools.recorder bound them to, as the old audio.py's
    ``from .rooms import apply_channel`` did), rerecord and channel_copies still run.
    Control: the patched function does raise when called."""
    from sertools import audio, rooms

    def boom(*a, **k):
        raise AssertionError("the copies called the corpus's channel code")
    originals = (rooms.apply_channel, rooms.colored_noise)
    for mod in (audio, recorder):
        for name, value in list(vars(mod).items()):
            if any(value is f for f in originals):
                monkeypatch.setattr(mod, name, boom)
    monkeypatch.setattr(rooms, "apply_channel", boom)
    monkeypatch.setattr(rooms, "colored_noise", boom)
    rerecord(voice_like(seconds=0.5), np.random.default_rng(0))
    clips = toy_clips()
    _, tcfg = get_config("quick", channel_copies=1)
    assert len(channel_copies(clips, clips.indices("train"), tcfg, key=None, n_jobs=1)[0]) == 6
    with pytest.raises(AssertionError, match="channel code"):                   # control: the trap is armed
        rooms.apply_channel(np.zeros(10), rooms.Channel(), np.random.default_rng(0))


def test_the_copies_path_does_not_import_sertools_rooms():
    """A fresh interpreter that imports sertools.audio and makes copies has not
    imported sertools.rooms. Control: importing the corpus (which uses it) in the same
    interpreter afterwards does show it, so the check can see the import."""
    code = (
        "import sys, numpy as np, pandas as pd\n"
        "from sertools.audio import rerecord, channel_copies\n"
        "from sertools.clips import Clips\n"
        "from sertools.config import get_config\n"
        "w = (0.05 * np.sin(np.arange(8000) / 16000 * 2 * np.pi * 150)).astype(np.float32)\n"
        "rerecord(w, np.random.default_rng(0))\n"
        "t = pd.DataFrame([dict(clip_id=f'c{i}', split='train', speaker='a', label=i % 2) for i in range(2)])\n"
        "_, tcfg = get_config('quick', channel_copies=1)\n"
        "channel_copies(Clips([w, w], t, ('x', 'y'), 16000, name='toy'), np.arange(2), tcfg, n_jobs=1)\n"
        "print('rooms' if 'sertools.rooms' in sys.modules else 'clean')\n"
        "import sertools.synth.corpus\n"
        "print('rooms' if 'sertools.rooms' in sys.modules else 'clean')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["clean", "rooms"], out.stdout               # second line: the control


# ------------------------------------------------------------- off by default on real corpora

def test_copies_default_to_the_validated_value_on_the_builtin_corpus_and_none_on_real_ones():
    tcfg = TrainConfig()
    assert tcfg.channel_copies is None
    from sertools.audio import BUILTIN_COPIES
    assert copies_for(tcfg, "builtin") == BUILTIN_COPIES
    for real in ("iemocap", "cremad", "ravdess", "chsims", "folder"):
        assert copies_for(tcfg, real) == 0
    for k in (0, 2):                                                           # a value set by hand wins
        t = TrainConfig(channel_copies=k)
        assert copies_for(t, "builtin") == k and copies_for(t, "cremad") == k
    assert get_config("quick", channel_copies="none")[1].channel_copies is None


@pytest.mark.parametrize("name,copies,expected_factor", [
    ("cremad", None, 1),      # a real corpus: no copies by default
    ("builtin", 1, 2),        # the built-in corpus with one copy asked for
    ("cremad", 1, 2),         # control: asked for, a real corpus gets its copy, and the count shows it
])
def test_get_views_adds_copies_by_the_corpus_default(monkeypatch, tmp_path, name, copies, expected_factor):
    """experiment.get_views on a corpus named like a real one takes no copies unless
    asked; asked for one, either corpus takes it."""
    from sertools import experiment
    monkeypatch.setenv("SERTOOLS_CACHE", str(tmp_path))
    clips = toy_clips(name)
    monkeypatch.setattr(experiment, "get_clips", lambda corpus, ccfg, progress=True: clips)
    monkeypatch.setattr(experiment, "_VIEWS", {})
    ccfg, tcfg = get_config("quick", n_labeled=2, channel_copies=copies)
    views = experiment.get_views(name, ccfg, tcfg, progress=False)
    n = views.meta["n_labeled"]
    assert len(views.labeled) == expected_factor * n


def test_the_microphone_adds_its_noise_at_the_drawn_snr():
    """The microphone chain's output minus the same chain without noise has the drawn
    SNR, measured with the band opened (20 Hz-7.9 kHz) and no saturation: the SNR is
    the voice's over the white noise's as they reach the capsule, before its band
    removes part of the noise. Control: a 60 dB draw measures far above the range."""
    wave = voice_like(seconds=1.0).astype(np.float64)
    open_band = {"highpass_hz": 20.0, "lowpass_hz": 7900.0, "distortion": 0.0}

    def measured(d):
        clean = recorder.microphone(wave, {**d, "snr_db": 300.0}).astype(float)
        noisy = recorder.microphone(wave, d).astype(float)
        return 10 * np.log10(np.mean(clean ** 2) / np.mean((noisy - clean) ** 2))
    for s in range(5):
        d = {**draw_recording(np.random.default_rng(s)), **open_band}
        assert abs(measured(d) - d["snr_db"]) < 1.0, (measured(d), d["snr_db"])
    d = {**draw_recording(np.random.default_rng(0)), **open_band, "snr_db": 60.0}
    assert measured(d) > RECORDING_RANGES["snr_db"][1] + 20                    # control
