"""Corpus adapters and video helpers, on small folders built here with the
real corpora's naming conventions (tones for speech, drawn faces for video)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

cv2 = pytest.importorskip("cv2")

from sertools import video  # noqa: E402
from sertools.clips import SPLITS  # noqa: E402
from sertools.corpora import chsims, cremad, folder, iemocap, load_corpus, ravdess  # noqa: E402
from sertools.corpora.common import CorpusWarning, speaker_splits  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def tmp_cache(tmp_path_factory):
    """Keep cached features and face crops out of data/cache."""
    if Path(__file__).with_name("conftest.py").exists() and os.environ.get("SERTOOLS_CACHE"):
        yield
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SERTOOLS_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


# ---------------------------------------------------------------- helpers

def tone(path, f0=200.0, seconds=0.3, sr=22050, channels=1):
    """A short harmonic tone as a WAV file (any rate, mono or stereo)."""
    t = np.arange(int(seconds * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * f0 * t) + 0.1 * np.sin(4 * np.pi * f0 * t)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.repeat(x[:, None], channels, 1).astype(np.float32), sr)
    return path


def face_frame(seed=1, blank=False):
    """A 240x320 RGB frame with a drawn face scaled to 192x192 (or an empty wall)."""
    from sertools.synth.face import draw_face, random_identity
    frame = np.full((240, 320, 3), 90, np.uint8)
    if not blank:
        face = draw_face(random_identity(np.random.default_rng(seed)), {})
        frame[24:216, 64:256] = cv2.resize(face, (192, 192), interpolation=cv2.INTER_CUBIC)
    return frame


def face_video(path, seed=1, blank=False, n=3):
    return video.write_video(path, np.stack([face_frame(seed, blank)] * n), fps=8)


def flv_video(path, seed=1, n=3):
    """A Flash video like CREMA-D's VideoFlash files (FLV1 codec)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FLV1"), 8.0, (320, 240))
    for _ in range(n):
        w.write(cv2.cvtColor(face_frame(seed), cv2.COLOR_RGB2BGR))
    w.release()


def snapshot(root):
    return {p: p.stat().st_mtime_ns for p in Path(root).rglob("*")}


def assert_disjoint(clips):
    t = clips.table
    train = set(t.speaker[t.split.isin(["train", "unlabeled"])])
    for s in ("val", "test"):
        assert not train & set(t.speaker[t.split == s]), s
    assert set(t.split) <= set(SPLITS)


# ---------------------------------------------------------------- video

def test_haar_finds_drawn_face_and_reports_blank_frame():
    frames = np.stack([face_frame(1), face_frame(blank=True)])
    x, y, w, h = video.detect_face(frames[0])
    assert 40 < x + w / 2 < 280 and 20 < y + h / 2 < 220 and w > 80  # around the drawn face
    assert video.detect_face(frames[1]) is None
    crops, found = video.face_crops(frames, size=64)
    assert found.tolist() == [True, False]
    assert crops.shape == (1, 64, 64, 3) and crops.dtype == np.uint8


def test_read_frames_samples_evenly_and_names_bad_files(tmp_path):
    levels = np.arange(10) * 25
    frames = np.stack([np.full((32, 32, 3), v, np.uint8) for v in levels])
    path = video.write_video(tmp_path / "ramp.mp4", frames, fps=8)
    got = video.read_frames(path, n_frames=3)
    assert got.shape == (3, 32, 32, 3)
    assert np.allclose(got.reshape(3, -1).mean(1), levels[[1, 5, 8]], atol=6)
    assert len(video.read_frames(path, n_frames=None)) == 10
    assert len(video.read_frames(path, n_frames=50)) == 10  # at most the frames there are
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(video.VideoError, match="broken.mp4"):
        video.read_frames(bad)
    with pytest.raises(video.VideoError, match="missing.mp4"):
        video.read_frames(tmp_path / "missing.mp4")


def test_missing_cascade_says_which_opencv_to_install(monkeypatch):
    video.haar_cascade.cache_clear()
    monkeypatch.delattr(cv2, "CascadeClassifier")
    try:
        with pytest.raises(RuntimeError, match="opencv-python-headless<5"):
            video.detect_face(face_frame(1))
    finally:
        monkeypatch.undo()
        video.haar_cascade.cache_clear()


def test_speaker_splits_are_disjoint_balanced_and_checked():
    spk = [f"s{i:02d}" for i in range(20)]
    sexes = {s: "f" if i % 2 else "m" for i, s in enumerate(spk)}
    sp = speaker_splits(spk, val_share=0.2, test_share=0.2, groups=sexes)
    test = [s for s in spk if sp[s] == "test"]
    assert len(test) == 4 and sorted(sexes[s] for s in test) == ["f", "f", "m", "m"]
    assert sum(v == "val" for v in sp.values()) == 4
    assert speaker_splits(spk, test_speakers=["s01"], val_speakers=["s02"])["s01"] == "test"
    with pytest.raises(ValueError, match="nobody"):
        speaker_splits(spk, test_speakers=["nobody"])
    with pytest.raises(ValueError, match="at least 3 speakers"):
        speaker_splits(["a", "b"])


# ---------------------------------------------------------------- RAVDESS

@pytest.fixture(scope="module")
def ravdess_dir(tmp_path_factory):
    """6 actors x 6 emotions (speech); audio-video files for neutral takes, one without a face."""
    root = tmp_path_factory.mktemp("RAVDESS")
    for actor in range(1, 7):
        d = root / f"Actor_{actor:02d}"
        for emo in range(1, 7):  # neutral calm happy sad angry fearful
            take = f"01-{emo:02d}-01-01-01-{actor:02d}"
            tone(d / f"03-{take}.wav", f0=120 + 20 * emo, sr=48000, channels=2 if actor == 1 else 1)
        face_video(d / f"01-01-01-01-01-01-{actor:02d}.mp4", seed=actor, blank=actor == 3)
    (root / "Actor_01" / "03-01-03-02-01-01-01.wav").write_bytes(b"")        # empty
    sf.write(root / "Actor_01" / "03-01-04-02-01-01-01.wav", np.zeros(0), 16000)  # a WAV without samples
    (root / "Actor_02" / "03-01-09-01-01-01-02.wav").write_bytes(b"RIFF")    # emotion 09 does not exist
    (root / "Actor_02" / "readme.wav").write_bytes(b"RIFF")                   # not a RAVDESS name
    return root


@pytest.fixture(scope="module")
def ravdess_clips(ravdess_dir):
    before = snapshot(ravdess_dir)
    with pytest.warns(CorpusWarning, match="4 file\\(s\\) skipped.*1 file\\(s\\) kept without video"):
        clips = load_corpus(f"ravdess:{ravdess_dir}", progress=False)
    assert snapshot(ravdess_dir) == before  # nothing written into the user's folder
    return clips


def test_ravdess_names_and_labels(ravdess_clips):
    assert ravdess.parse_name("03-01-05-01-02-01-12") | {} == dict(
        modality=3, channel="speech", source_emotion="angry", intensity="normal", statement=2,
        repetition=1, speaker="Actor_12", sex="female")
    c = ravdess_clips
    assert c.classes == ("neutral", "happy", "sad", "angry") and c.name == "ravdess"
    assert len(c) == 24 and c.meta["dropped"] == {"calm": 6, "fearful": 6}
    for cid, lab, spk in zip(c.table.clip_id, c.table.label, c.table.speaker):
        f = ravdess.parse_name(cid)
        assert c.classes[lab] == f["source_emotion"] and spk == f["speaker"]
    assert all(w.dtype == np.float32 and w.ndim == 1 and abs(len(w) - 4800) <= 1 for w in c.waves)  # 48k stereo -> 16k mono
    assert_disjoint(c)
    assert set(c.table.split) == {"train", "val", "test"}


def test_ravdess_faces_and_report(ravdess_clips):
    c = ravdess_clips
    shapes = {cid: None if f is None else f.shape for cid, f in zip(c.table.clip_id, c.frames)}
    assert shapes["03-01-01-01-01-01-01"] == (3, 64, 64, 3)  # the face of the audio-video take
    assert shapes["03-01-01-01-01-01-03"] is None  # blank video: reported, not guessed
    assert shapes["03-01-03-01-01-01-01"] is None  # audio only
    rep = pd.DataFrame(c.meta["report"])
    why = dict(zip(rep.file.map(lambda f: Path(f).name), rep.reason))
    assert "empty (0 bytes)" in why["03-01-03-02-01-01-01.wav"]
    assert "no samples" in why["03-01-04-02-01-01-01.wav"]
    assert "emotion 09" in why["03-01-09-01-01-01-02.wav"]
    assert "seven two-digit fields" in why["readme.wav"]
    assert "no face" in why["01-01-01-01-01-01-03.mp4"]
    assert rep.set_index(rep.file.map(lambda f: Path(f).name)).action["01-01-01-01-01-01-03.mp4"] == "kept without video"


def test_ravdess_options(ravdess_dir):
    with pytest.warns(CorpusWarning):
        c = ravdess.load(ravdess_dir, calm_as_neutral=True, others="unlabeled", unlabeled_share=0.25,
                         video=False, progress=False)
    t = c.table
    assert c.frames is None
    assert (t.emotion == "neutral").sum() == 12  # 6 neutral takes and 6 calm ones
    assert set(t.split[t.label < 0]) == {"unlabeled"} and set(t.emotion[t.label < 0]) == {"fearful"}
    assert (t.split == "unlabeled").sum() > (t.label < 0).sum()  # plus a quarter of the labeled training clips
    assert_disjoint(c)
    with pytest.warns(CorpusWarning):
        again = load_corpus(f"ravdess:{ravdess_dir}", video=False, progress=False)
    assert c.meta["cache_key"] != again.meta["cache_key"]  # other options, other clips: another cache key


def test_ravdess_label_budget_is_honoured(ravdess_clips):
    from sertools.audio import corpus_features
    from sertools.config import get_config
    from sertools.corpora import corpus_key
    from sertools.views import make_views
    _, tcfg = get_config("quick")
    feats = corpus_features(ravdess_clips, tcfg, key=corpus_key(ravdess_clips))
    v = make_views(ravdess_clips, feats, n_labeled=2, seed=0)
    assert np.bincount(v.labeled.y.numpy(), minlength=4).tolist() == [2, 2, 2, 2]
    assert len(v.unlabeled) == (ravdess_clips.table.split == "train").sum() - 8


def test_ravdess_wrong_folder_shows_layout(tmp_path):
    (tmp_path / "stuff").mkdir()
    with pytest.raises(FileNotFoundError, match="(?s)no speech audio files.*Expected layout.*Actor_01"):
        load_corpus(f"ravdess:{tmp_path}")
    face_video(tmp_path / "01-01-05-01-02-01-12.mp4")
    with pytest.raises(FileNotFoundError, match="(?s)Found videos but no audio.*ffmpeg"):
        ravdess.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="(?s)no such folder.*Expected layout"):
        ravdess.load(tmp_path / "nope")


# ---------------------------------------------------------------- CREMA-D

@pytest.fixture(scope="module")
def cremad_dir(tmp_path_factory):
    """6 actors (3 female, 3 male) x 5 emotions; Flash videos for the angry takes."""
    root = tmp_path_factory.mktemp("CREMA-D")
    actors = [f"10{i:02d}" for i in range(1, 7)]
    for i, a in enumerate(actors):
        for j, emo in enumerate(("ANG", "HAP", "NEU", "SAD", "DIS")):
            tone(root / "AudioWAV" / f"{a}_DFA_{emo}_XX.wav", f0=150 + 15 * j, sr=16000)
        flv_video(root / "VideoFlash" / f"{a}_DFA_ANG_XX.flv", seed=i + 1)
    tone(root / "AudioWAV" / "1001_IEO_HAP_HI.wav")
    (root / "AudioWAV" / "1076_MTI_SAD_XX.wav").write_bytes(b"")  # CREMA-D's known empty file
    (root / "AudioWAV" / "1001_DFA_XYZ_XX.wav").write_bytes(b"")  # no such emotion
    pd.DataFrame({"ActorID": actors, "Sex": ["Female", "Male"] * 3}).to_csv(root / "VideoDemographics.csv", index=False)
    return root


def test_cremad_labels_splits_faces_report(cremad_dir):
    assert cremad.parse_name("1001_IEO_HAP_HI") == dict(speaker="1001", sentence="IEO", source_emotion="happy", level="high")
    with pytest.warns(CorpusWarning, match="2 file\\(s\\) skipped"):
        c = load_corpus(f"cremad:{cremad_dir}", test_share=0.34, val_share=0.34, progress=False)
    t = c.table
    assert len(c) == 25 and c.meta["dropped"] == {"disgust": 6}
    assert [c.classes[i] for i in t.label] == [cremad.CODES[x.split("_")[2]] for x in t.clip_id]
    assert t.set_index("clip_id").level["1001_IEO_HAP_HI"] == "high"
    assert_disjoint(c)
    for s in ("val", "test"):  # sex-balanced from VideoDemographics.csv
        assert sorted(set(t.sex[t.split == s])) == ["female", "male"]
    faces = [f for f, cid in zip(c.frames, t.clip_id) if "_ANG_" in cid]
    assert all(f is not None and f.shape[1:] == (64, 64, 3) for f in faces)
    assert all(f is None for f, cid in zip(c.frames, t.clip_id) if "_ANG_" not in cid)
    skipped = {Path(r["file"]).name: r["reason"] for r in c.meta["report"]}
    assert "empty" in skipped["1076_MTI_SAD_XX.wav"] and "XYZ" in skipped["1001_DFA_XYZ_XX.wav"]


def test_cremad_wrong_folder(tmp_path):
    tone(tmp_path / "1001_DFA_ANG_XX.wav")  # audio not inside AudioWAV/
    with pytest.raises(FileNotFoundError, match="(?s)AudioWAV/ is missing.*Expected layout.*VideoFlash"):
        load_corpus(f"cremad:{tmp_path}")
    (tmp_path / "AudioWAV").mkdir()
    with pytest.raises(FileNotFoundError, match="no files named like 1001_DFA_ANG_XX.wav"):
        cremad.load(tmp_path)


# ---------------------------------------------------------------- IEMOCAP

EVAL_HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"


def make_iemocap(root, sessions=(1, 2, 5)):
    """Three sessions, two dialogs each, labels covering the merges and drops."""
    cats = ["neu", "hap", "exc", "sad", "ang", "fru", "xxx", "neu"]
    for s in sessions:
        sdir = root / f"Session{s}"
        for dialog in (f"Ses0{s}F_impro01", f"Ses0{s}M_script01_1"):
            lines = [EVAL_HEADER]
            for k, cat in enumerate(cats):
                utt = f"{dialog}_{'FM'[k % 2]}{k:03d}"
                lines.append(f"[{k}.5000 - {k + 1}.2500]\t{utt}\t{cat}\t[2.5000, 3.0000, 3.5000]\n"
                             f"C-E2:\tNeutral;\t()\nA-E3:\tval 3; act 2; dom  2;\t()\n\n")
                if not (s == 2 and k == 7):  # Session2: one labeled utterance lost its WAV
                    tone(sdir / "sentences" / "wav" / dialog / f"{utt}.wav", f0=140 + 10 * k, sr=16000)
            (sdir / "dialog" / "EmoEvaluation").mkdir(parents=True, exist_ok=True)
            (sdir / "dialog" / "EmoEvaluation" / f"{dialog}.txt").write_text("".join(lines))
    tone(root / "Session1" / "sentences" / "wav" / "Ses01F_impro01" / "Ses01F_impro01_F099.wav")  # no label line
    return root


def test_iemocap_labels_and_leave_one_session_out(tmp_path):
    root = make_iemocap(tmp_path / "IEMOCAP_full_release")
    assert iemocap.speaker_of("Ses01F_impro01_M003") == "Ses01M"
    with pytest.warns(CorpusWarning, match="3 file\\(s\\) skipped"):
        c = load_corpus(f"iemocap:{root}", progress=False)
    t = c.table.set_index("clip_id")
    assert c.frames is None and c.meta["dropped"] == {"fru": 6, "xxx": 6}
    assert c.classes[t.label["Ses01F_impro01_F002"]] == "happy"  # excited merged into happy
    assert t.valence["Ses01F_impro01_F000"] == 2.5 and t.activation["Ses01F_impro01_F000"] == 3.0
    assert set(t.speaker[t.split == "test"]) == {"Ses05F", "Ses05M"}
    assert set(t.speaker[t.split == "val"]) == {"Ses02F"}  # the actress of the session before
    assert_disjoint(c)
    reasons = " ".join(r["reason"] for r in c.meta["report"])
    assert "WAV file is missing" in reasons and "no label line" in reasons
    with pytest.warns(CorpusWarning):
        c1 = iemocap.load(root, test_session=1, excited_as_happy=False, progress=False)
    assert set(c1.table.speaker[c1.table.split == "test"]) == {"Ses01F", "Ses01M"}
    assert "exc" in c1.meta["dropped"]


def test_iemocap_wrong_folder(tmp_path):
    make_iemocap(tmp_path, sessions=(1, 2))
    with pytest.raises(FileNotFoundError, match="(?s)missing Session3, Session4, Session5.*Expected layout.*EmoEvaluation"):
        load_corpus(f"iemocap:{tmp_path}")
    (tmp_path / "Session5" / "dialog" / "EmoEvaluation").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="Session5/sentences/wav/ is missing"):
        iemocap.load(tmp_path)


# ---------------------------------------------------------------- CH-SIMS

@pytest.fixture(scope="module")
def chsims_dir(tmp_path_factory):
    """5 source videos x 3 clips; extracted WAVs in audio/, two Raw videos with faces."""
    root = tmp_path_factory.mktemp("CH-SIMS")
    scores = [-0.8, 0.0, 0.4, -0.2, 1.0, 0.0]
    modes = {1: "train", 2: "train", 3: "train", 4: "valid", 5: "test"}
    rows = []
    for v in range(1, 6):
        for k in range(1, 4):
            vid, cid = f"video_{v:04d}", f"{k:04d}"
            score = scores[(v + k) % len(scores)]
            rows.append(dict(video_id=vid, clip_id=cid, text="你好", label=score, label_T=score, label_A=score,
                             label_V=score, annotation="x", mode=modes[v]))
            if (v, k) != (5, 3):  # one clip's audio was not extracted
                tone(root / "audio" / vid / f"{cid}.wav", f0=150 + 30 * score, sr=44100, channels=2)
    face_video(root / "Raw" / "video_0001" / "0001.mp4", seed=2)
    face_video(root / "Raw" / "video_0001" / "0002.mp4", seed=4)
    pd.DataFrame(rows).to_csv(root / "label.csv", index=False)
    return root


def test_chsims_three_classes_and_splits(chsims_dir):
    assert [chsims.sentiment_class(x) for x in (-0.2, 0.0, 0.2, -1.0, 1.0)] == [0, 1, 2, 0, 2]
    with pytest.warns(CorpusWarning, match="1 file\\(s\\) skipped"):
        c = load_corpus(f"chsims:{chsims_dir}", progress=False)
    t = c.table
    assert c.classes == ("negative", "neutral", "positive") and len(c) == 14
    assert "video_0001_0001" in set(t.clip_id)  # ids keep their leading zeros
    assert all(c.classes[lab] == ("negative" if s < 0 else "neutral" if s == 0 else "positive")
               for lab, s in zip(t.label, t.score))
    assert_disjoint(c)  # video-disjoint: the video id stands in for the speaker
    assert sum(f is not None for f in c.frames) == 2
    with pytest.warns(CorpusWarning):
        off = chsims.load(chsims_dir, official_split=True, video=False, progress=False)
    assert dict(zip(off.table.speaker, off.table.split))["video_0004"] == "val"


def test_chsims_without_audio_says_how_to_extract(tmp_path, chsims_dir):
    (tmp_path / "label.csv").write_bytes((chsims_dir / "label.csv").read_bytes())
    with pytest.raises(FileNotFoundError, match="(?s)no audio/.*Expected layout.*label.csv.*ffmpeg .*-vn -ac 1 -ar 16000"):
        load_corpus(f"chsims:{tmp_path}")
    with pytest.raises(FileNotFoundError, match="(?s)label.csv is missing.*Expected layout"):
        chsims.load(chsims_dir / "audio")


# ---------------------------------------------------------------- folder

@pytest.fixture(scope="module")
def builtin_small():
    from sertools.config import get_config
    from sertools.synth.corpus import builtin_corpus
    ccfg, _ = get_config("quick", n_speakers_a=5, n_speakers_b=3, n_train=16, n_unlabeled=8, n_val=6, n_test=6)
    return builtin_corpus(ccfg, progress=False)


def test_folder_round_trip_of_the_builtin_corpus(tmp_path, builtin_small):
    c = builtin_small
    out = folder.write_folder(c, tmp_path / "corpus", progress=False)
    labels = pd.read_csv(out / "labels.csv")
    assert list(labels.columns) == ["clip_id", "split", "speaker", "emotion", "face_emotion", "intensity", "domain",
                                    "rater_agreement", "intended_emotion", "rater_votes"]
    assert len(list((out / "audio").glob("*.wav"))) == len(list((out / "video").glob("*.mp4"))) == len(c)
    back = load_corpus(f"folder:{out}", progress=False)
    assert back.meta["report"] == [] and back.classes == c.classes
    assert (c.table.split == "excluded").any()  # clips without a rater majority are written, with no label,
    c = c.subset(np.flatnonzero(c.table.split != "excluded"))  # and are not read back into a split
    cols = ["clip_id", "split", "speaker", "label", "face_label", "domain"]
    pd.testing.assert_frame_equal(back.table[cols], c.table[cols], check_dtype=False)
    assert np.allclose(back.table.intensity, c.table.intensity)
    assert all(len(a) == len(b) and np.abs(a - b).max() < 1e-3 for a, b in zip(back.waves, c.waves))
    assert all(f.shape == g.shape and np.abs(f.astype(float) - g).mean() < 12 for f, g in zip(back.frames, c.frames))
    folder.write_folder(c.subset(range(4)), out, progress=False)  # writing again replaces the earlier corpus
    assert len(list((out / "audio").glob("*.wav"))) == 4
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "mine.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not empty"):
        folder.write_folder(c, tmp_path / "other", progress=False)


def test_folder_without_splits_and_with_problems(tmp_path):
    rows = []
    for i in range(12):
        cid, emo = f"c{i:02d}", ["positive", "negative", "neutral", ""][i % 4]
        rows.append(dict(clip_id=cid, speaker=f"spk{i // 3}", emotion=emo))
        if i != 5:
            tone(tmp_path / "audio" / f"{cid}.wav", f0=100 + 10 * i)
    tone(tmp_path / "audio" / "stray.wav")
    pd.DataFrame(rows).to_csv(tmp_path / "labels.csv", index=False)
    with pytest.warns(CorpusWarning, match="2 file\\(s\\) skipped"):
        c = folder.load(tmp_path, progress=False)
    assert c.classes == ("negative", "neutral", "positive") and c.frames is None
    assert_disjoint(c)
    t = c.table
    assert set(t.split[t.label < 0]) == {"unlabeled"}  # clips without emotion: unlabeled data of training speakers
    assert (t.label < 0).sum() + sum(v for k, v in c.meta["dropped"].items() if k.startswith("(no label)")) == 3
    reasons = {Path(r["file"]).name: r["reason"] for r in c.meta["report"]}
    assert reasons == {"stray.wav": "not listed in labels.csv", "c05.wav": "listed in labels.csv but the file is missing"}
    assert folder.class_order(["sad", "angry"]) == ("sad", "angry")
    assert folder.class_order(["b", "a"]) == ("a", "b")


def test_folder_wrong_layout(tmp_path):
    tone(tmp_path / "x.wav")
    with pytest.raises(FileNotFoundError, match="(?s)labels.csv is missing.*Expected layout.*<clip_id>.wav"):
        load_corpus(f"folder:{tmp_path}")
    pd.DataFrame({"clip_id": ["x"], "emotion": ["happy"]}).to_csv(tmp_path / "labels.csv", index=False)
    with pytest.raises(FileNotFoundError, match="lacks the column\\(s\\) speaker"):
        folder.load(tmp_path)


def test_chosen_val_speakers_are_never_drawn_for_test():
    """Only val speakers named: test comes from the others, and val keeps its speaker."""
    spk = [f"s{i}" for i in range(10)]
    for seed in range(5):
        sp = speaker_splits(spk, seed=seed, val_speakers=["s1"])
        assert sp["s1"] == "val" and "test" in sp.values()
    with pytest.raises(ValueError, match="both val_speakers and test_speakers"):
        speaker_splits(spk, val_speakers=["s1"], test_speakers=["s1", "s2"])
