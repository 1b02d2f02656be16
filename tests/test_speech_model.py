"""The speech model's inputs and calibration (issue 13): each option does what
it claims, measured on hand-made signals; the paper's STFT setting still runs.
Accuracy targets live in ``make bench``, not here."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from sertools.audio import TRACKS, FeatureExtractor, compute_features, group_normalise, pitch_tracks
from sertools.config import ConfigError, get_config
from sertools.metrics import expected_calibration_error, reliability
from sertools.models import SpeechTransformer

SR = 16000


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def voice_like(f0: float, seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """A harmonic tone (10 harmonics falling 6 dB/octave) with a little noise."""
    t = np.arange(int(SR * seconds)) / SR
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 11))
    x = 0.05 * x + 0.001 * np.random.default_rng(seed).normal(size=len(t))
    return x.astype(np.float32)


def logmel(waves, **kw):
    return compute_features(waves, FeatureExtractor("logmel", SR, **kw))


# ------------------------------------------------------------- pitch tracks

@pytest.mark.parametrize("kind", ["logmel", "stft"])
def test_a_clips_features_do_not_depend_on_the_clips_batched_with_it(kind):
    short, long = voice_like(140.0, 0.6, seed=1), voice_like(220.0, 1.5, seed=2)
    ex = FeatureExtractor(kind, SR)
    alone = ex(torch.from_numpy(short)[None])[0]
    batched = compute_features([short, long], ex)[0]
    assert batched.shape == alone.shape
    torch.testing.assert_close(batched, alone, rtol=1e-5, atol=1e-5)  # the last frames too


@pytest.mark.parametrize("f0", [110.0, 220.0])
def test_f0_track_of_a_tone_recovers_its_frequency(f0):
    wave = voice_like(f0)
    n = FeatureExtractor().n_frames(len(wave))
    tr = pitch_tracks(wave, SR, n)
    assert tr.shape == (n, len(TRACKS))
    st = tr[5:-5, TRACKS.index("f0_st")]
    hz = 27.5 * 2 ** (np.median(st) / 12)
    assert abs(hz - f0) / f0 < 0.01
    assert tr[5:-5, TRACKS.index("voicing")].min() > 0.8          # a periodic tone is voiced throughout


def test_f0_track_follows_a_glide_in_time():
    """A tone gliding up one octave per second: the track rises 12 semitones a second, aligned
    with the spectrogram's centred frames (the mid frame is near the mid pitch)."""
    t = np.arange(SR) / SR
    f = 120 * 2 ** t                                                 # 120 -> 240 Hz over 1 s
    wave = (0.05 * np.sin(2 * np.pi * np.cumsum(f) / SR)).astype(np.float32)
    n = FeatureExtractor().n_frames(len(wave))
    st = pitch_tracks(wave, SR, n)[:, 0]
    assert abs((st[90] - st[10]) - 12.0 * 0.8) < 0.3                   # 0.8 s of a 1-octave-per-second glide
    mid_hz = 27.5 * 2 ** (st[n // 2] / 12)
    assert abs(mid_hz - 120 * 2 ** 0.5) / (120 * 2 ** 0.5) < 0.02


def test_loudness_track_moves_with_gain_and_f0_does_not():
    wave = voice_like(150.0)
    n = FeatureExtractor().n_frames(len(wave))
    a, b = pitch_tracks(wave, SR, n), pitch_tracks(4 * wave, SR, n)
    np.testing.assert_allclose(b[:, 2] - a[:, 2], 20 * np.log10(4), atol=0.05)  # +12 dB
    np.testing.assert_allclose(b[:, 0], a[:, 0], atol=1e-3)


# ------------------------------------------------------------- normalisation

@pytest.mark.parametrize("how", ["utterance_mean", "utterance"])
def test_utterance_normalisation_removes_a_gain_change(how):
    """A gain is an additive constant on a log spectrum: per-clip normalisation
    leaves the features unchanged, and the pool-only setting does not."""
    wave = voice_like(130.0) + 0.01 * np.random.default_rng(1).normal(size=SR).astype(np.float32)
    f1, f2 = logmel([wave, 3.0 * wave])
    assert (f2 - f1).abs().mean() > 2.0                                  # log(9) = 2.2 before
    g1, g2 = group_normalise([f1, f2], how)
    torch.testing.assert_close(g1, g2, atol=1e-3, rtol=0)
    p1, p2 = group_normalise([f1, f2], "pool")
    assert (p2 - p1).abs().mean() > 2.0


def test_speaker_normalisation_removes_the_speakers_pitch_and_keeps_the_clips_deviation():
    """Two speakers an octave apart, each with a low and a raised clip:
    after speaker normalisation the two speakers' tracks match, and the
    raised clip stays above the low one."""
    waves = [voice_like(110), voice_like(110 * 2 ** (3 / 12)), voice_like(220), voice_like(220 * 2 ** (3 / 12))]
    n = FeatureExtractor().n_frames(SR)
    tr = [torch.from_numpy(pitch_tracks(w, SR, n)[5:-5, :1]) for w in waves]
    g = group_normalise(tr, "speaker", groups=["m", "m", "f", "f"])
    assert abs(float(g[0].mean() - g[2].mean())) < 0.05
    assert float(g[1].mean() - g[0].mean()) > 1.5
    with pytest.raises(ValueError, match="speaker id"):
        group_normalise(tr, "speaker")


def test_make_views_applies_the_normalisation_per_speaker():
    """``make_views`` with norm=speaker: a speaker recorded 10 dB louder gets
    the same features as the same voice recorded quietly."""
    from sertools.clips import Clips
    from sertools.views import make_views
    waves, rows = [], []
    for split, spk, gain in [("train", "a", 1.0), ("train", "b", 3.0), ("val", "c", 1.0), ("test", "d", 3.0)]:
        for k, f0 in enumerate((120.0, 160.0)):
            waves.append(gain * voice_like(f0, seed=k))                  # the same voice, louder
            rows.append(dict(clip_id=f"{spk}{k}", split=split, speaker=spk, label=k))
    clips = Clips(waves, pd.DataFrame(rows), ("low", "high"), SR, name="toy")
    feats = logmel(clips.waves)
    v = make_views(clips, feats, n_labeled=2, seed=0, norm="speaker")
    va, vt = v.val.x, v.test.x                                         # quiet c and loud d, same voices
    assert (va - vt).abs().mean() < 0.1
    v0 = make_views(clips, feats, n_labeled=2, seed=0)
    assert (v0.val.x - v0.test.x).abs().mean() > 0.5


# ------------------------------------------------------------- re-recorded copies (multi-condition training)

def test_channel_copies_join_the_labeled_view_only_and_classic_methods_ignore_them(tmp_path, monkeypatch):
    """channel_copies=K: the labeled view holds each labeled clip K + 1 times with
    its label (the originals first, unchanged), the other views are those of
    K = 0, the copies do not depend on the run's seed, and a second call reads
    them from the disk cache."""
    import dataclasses
    from sertools.audio import channel_copies
    from sertools.clips import Clips
    from sertools.views import make_views
    monkeypatch.setenv("SERTOOLS_CACHE", str(tmp_path))
    waves, rows = [], []
    for split, spk in [("train", "a"), ("train", "b"), ("val", "c"), ("test", "d")]:
        for k, f0 in enumerate((120.0, 160.0, 200.0)):
            waves.append(voice_like(f0, seconds=0.6, seed=k))
            rows.append(dict(clip_id=f"{spk}{k}", split=split, speaker=spk, label=k % 2))
    clips = Clips(waves, pd.DataFrame(rows), ("low", "high"), SR, name="toy")
    _, tcfg = get_config("quick", pitch_tracks=True, channel_copies=2)
    train = clips.indices("train")
    feats = [torch.cat([f, torch.from_numpy(pitch_tracks(w, SR, len(f)))], 1)
             for f, w in zip(logmel(clips.waves), clips.waves)]
    copies = channel_copies(clips, train, tcfg, key="toy")
    assert len(copies) == 2 and all(len(c) == len(train) for c in copies)
    assert all(c.shape == feats[i].shape for copy in copies for c, i in zip(copy, train))
    assert not torch.allclose(copies[0][0], feats[train[0]], atol=1e-2)
    assert list(tmp_path.glob("copies-toy-*.npz"))
    again = channel_copies(clips, train, tcfg, key="toy")                   # from the cache
    assert all(torch.equal(a, b) for x, y in zip(copies, again) for a, b in zip(x, y))
    kw = dict(norm="utterance", track_norm="speaker", n_tracks=len(TRACKS))
    plain = make_views(clips, feats, n_labeled=2, seed=0, **kw)
    v = make_views(clips, feats, n_labeled=2, seed=0, copies=copies, **kw)
    n = plain.meta["n_labeled"]
    assert v.meta["n_labeled"] == n and len(v.labeled) == 3 * n
    assert torch.equal(v.labeled.y, plain.labeled.y.repeat(3))
    assert list(v.labeled.rows) == list(plain.labeled.rows) * 3
    assert torch.equal(v.labeled.x[:n], plain.labeled.x)                       # the originals unchanged
    assert not torch.allclose(v.labeled.x[n:2 * n], plain.labeled.x, atol=1e-2)
    for name in ("unlabeled", "val", "test"):
        assert torch.equal(getattr(v, name).x, getattr(plain, name).x)
    tcfg7 = dataclasses.replace(tcfg, seed=7)                                  # another run's seed: the same copies
    assert all(torch.equal(a, b) for x, y in zip(copies, channel_copies(clips, train, tcfg7)) for a, b in zip(x, y))


def test_classic_methods_train_on_the_labeled_clips_without_their_copies():
    from sertools.classic import run as classic_run
    kw = dict(preset="quick", progress=False, n_labeled=5)
    with_copies = classic_run("svm", channel_copies=2, **kw)
    without = classic_run("svm", channel_copies=0, **kw)
    assert with_copies.metrics == without.metrics


# ------------------------------------------------------------- model

def test_statistics_pooling_is_mean_and_std_of_the_real_frames():
    """Stats pooling concatenates the mean and the standard deviation over the
    real frames (padding excluded) of the encoder output: checked against a
    direct computation, and a clip padded with zeros keeps its embedding."""
    from sertools.audio import Padded
    torch.manual_seed(0)
    m = SpeechTransformer(4, 2, d_model=16, n_heads=2, n_layers=1, dim_ff=16, dropout=0.0,
                          subsample=1, pooling="stats").eval()
    assert m.head.in_features == 32
    x = torch.randn(1, 30, 4)
    with torch.no_grad():
        h, _ = m.front(x, torch.ones(1, 30, dtype=torch.bool))
        h = m.encoder(m.pos(h))
        want = m.norm(torch.cat([h.mean(1), h.std(1, unbiased=False)], -1))
        torch.testing.assert_close(m.embed(x), want, atol=1e-4, rtol=1e-4)
        padded = Padded(torch.cat([x, torch.zeros(1, 10, 4)], 1), torch.arange(40)[None] < 30)
        torch.testing.assert_close(m.embed(padded), want, atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="pooling"):
        SpeechTransformer(4, 2, pooling="max")


def test_new_knobs_are_checked():
    _, t = get_config("quick", pitch_tracks=True, norm="speaker", track_norm="speaker", pooling="stats")
    assert t.pitch_tracks and t.norm == "speaker" and t.pooling == "stats"
    with pytest.raises(ConfigError, match="norm"):
        get_config("quick", norm="global")
    with pytest.raises(ConfigError, match="pooling"):
        get_config("quick", pooling="attention")


# ------------------------------------------------------------- calibration

def test_ece_on_hand_made_cases():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 1])
    sure = np.eye(2)[y]                                               # always sure, always right
    assert expected_calibration_error(sure, y) == pytest.approx(0.0)
    half = np.eye(2)[np.r_[y[:5], 1 - y[5:]]]                         # always sure, right half the time
    assert expected_calibration_error(half, y) == pytest.approx(50.0)
    # 0.7 confident on every clip and right on 7 of 10: calibrated
    p = np.full((10, 2), 0.3)
    pred = np.r_[y[:7], 1 - y[7:]]
    p[np.arange(10), pred] = 0.7
    assert expected_calibration_error(p, y) == pytest.approx(0.0, abs=1e-9)
    # two bins: 4 clips at 0.9 all right (gap 0.1), 6 at 0.6 with 3 right (gap 0.1) -> 10 %
    p = np.full((10, 2), 0.0)
    conf = np.r_[[0.9] * 4, [0.6] * 6]
    pred = np.r_[y[:4], y[4:7], 1 - y[7:]]
    p[np.arange(10), pred] = conf
    p[np.arange(10), 1 - pred] = 1 - conf
    assert expected_calibration_error(p, y) == pytest.approx(10.0)
    r = reliability(p, y)
    assert r["count"].sum() == 10 and np.nanmax(r["confidence"]) == pytest.approx(0.9)


# ------------------------------------------------------------- end to end

def test_the_papers_stft_setting_still_runs_end_to_end():
    from sertools.experiment import run
    tiny = dict(steps=4, eval_every=2, d_model=16, dim_ff=16, n_heads=2, n_layers=1, batch_size=8)
    from sertools.config import PAPER_SETTING
    rec = run("supervised", preset="quick", progress=False, **PAPER_SETTING, **tiny)
    assert rec.config["frontend"] == "stft" and rec.config["pooling"] == "mean" and not rec.config["pitch_tracks"]
    assert rec.probs.shape[1] == 4 and np.isfinite(rec.metrics["ua"])
    assert rec.state_dict["front.convs.0.weight"].shape[1] == 400 // 2 + 1   # STFT bins, no tracks
    rec2 = run("supervised", preset="quick", progress=False, **tiny)         # the kit's default inputs
    n_in = rec2.state_dict["front.convs.0.weight"].shape[1]
    _, t = get_config("quick")
    assert n_in == t.n_mels + (len(TRACKS) if t.pitch_tracks else 0)


@pytest.mark.parametrize("track_norm,transductive", [(None, False), ("speaker", True)])
def test_the_default_normalises_a_test_clip_without_its_speakers_other_clips(track_norm, transductive):
    """Non-transductive by default: changing one test clip of a speaker leaves the normalised features of that
    speaker's other test clips as they were. The control: speaker normalisation (a named, transductive option)
    moves them."""
    from sertools.views import normalise
    _, tcfg = get_config("default")
    norm, tn = tcfg.norm, track_norm or tcfg.track_norm
    g = torch.Generator().manual_seed(0)
    feats = [torch.randn(30, 6, generator=g) for _ in range(6)]
    speakers = ["s1"] * 3 + ["s2"] * 3
    before = normalise(speakers, feats, norm, tn, n_tracks=3)
    changed = list(feats)
    changed[1] = feats[1] * 3 + 5                       # another clip of s1
    after = normalise(speakers, changed, norm, tn, n_tracks=3)
    assert torch.allclose(before[0], after[0]) != transductive
    assert torch.allclose(before[3], after[3])          # another speaker: never moved
