"""CH-SIMS: Chinese movie and TV clips with sentiment scores (Yu et al. 2020).

``label.csv`` has one row per clip: ``video_id``, ``clip_id``, ``text`` (the
transcript), ``label`` (the multimodal sentiment score, the mean of five
annotators' votes in {-1, -0.5, 0, 0.5, 1}, so a value in [-1, 1]) and
``mode`` (the official train / valid / test split), plus unimodal scores
(label_T, label_A, label_V) that this adapter does not use.

Classes: the 3-class CH-SIMS convention, negative (score < 0), neutral
(score = 0), positive (score > 0); the score is kept in the ``score`` column.

Audio: CH-SIMS ships only the videos ``Raw/<video_id>/<clip_id>.mp4``, and
OpenCV cannot read sound, so extract the audio once with ffmpeg (the error
message shows the command) into ``audio/<video_id>/<clip_id>.wav`` (or
``wav/``), or anywhere and pass ``audio_dir=``. Faces are cut from the
videos with the Haar detector; clips where no frame shows a frontal face
keep their audio and are named in the report.

Splits: CH-SIMS names no speakers, so the ``video_id`` (one source video,
usually one main speaker) stands in for the speaker, and the adapter makes
video-disjoint splits by default; ``official_split=True`` uses the ``mode``
column instead (train, valid -> val, test).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import SENTIMENTS
from .common import Report, files_key, finish, layout_error, require_dir

LAYOUT = """\
CH-SIMS/
├── label.csv                   video_id,clip_id,text,label,...,mode
├── Raw/                        (optional: faces)
│   └── video_0001/0001.mp4     Raw/<video_id>/<clip_id>.mp4
└── audio/                      WAVs extracted from Raw/ (CH-SIMS ships none)
    └── video_0001/0001.wav     audio/<video_id>/<clip_id>.wav
"""
EXTRACT = """\
CH-SIMS ships no audio files and OpenCV cannot read sound; extract it once with ffmpeg:
  cd CH-SIMS && for f in Raw/*/*.mp4; do o="audio/${f#Raw/}"; mkdir -p "$(dirname "$o")"; \\
    ffmpeg -loglevel error -n -i "$f" -vn -ac 1 -ar 16000 "${o%.mp4}.wav"; done
(or write them to another folder and pass audio_dir=... , e.g. --corpus chsims:PATH is read-only)"""
MODES = {"train": "train", "valid": "val", "val": "val", "test": "test"}


def sentiment_class(score: float, eps: float = 1e-6) -> int:
    """Index into ("negative", "neutral", "positive") for a score in [-1, 1]."""
    return 0 if score < -eps else 2 if score > eps else 1


def _labels(root: Path) -> pd.DataFrame:
    """label.csv, with ids kept as text (``0001`` stays ``0001``)."""
    path = root / "label.csv"
    if not path.is_file():
        raise layout_error("chsims", root, "label.csv is missing", LAYOUT)
    try:
        t = pd.read_csv(path, dtype={"video_id": str, "clip_id": str})
    except (ValueError, OSError) as e:
        raise ValueError(f"{path}: cannot be read as CSV ({e})") from None
    missing = [c for c in ("video_id", "clip_id", "label") if c not in t.columns]
    if missing:
        raise layout_error("chsims", root, f"label.csv lacks the column(s) {', '.join(missing)}", LAYOUT)
    return t


def _audio_dir(root: Path, audio_dir) -> Path:
    if audio_dir is not None:
        d = Path(audio_dir).expanduser()
        if not d.is_dir():
            raise layout_error("chsims", root, f"audio_dir={d} is not a folder", LAYOUT, EXTRACT)
        return d
    for name in ("audio", "wav"):
        if (root / name).is_dir():
            return root / name
    raise layout_error("chsims", root, "no audio/ (or wav/) folder of extracted WAV files", LAYOUT, EXTRACT)


def load(path, audio_dir=None, official_split: bool = False, progress: bool = True, **options):
    """Read CH-SIMS from ``path`` (see the module doc for audio, classes and splits).

    Parameters
    ----------
    audio_dir : folder of extracted WAVs ``<video_id>/<clip_id>.wav``
        (default: ``audio/`` or ``wav/`` inside ``path``)
    official_split : use label.csv's ``mode`` column instead of video-disjoint splits
    options : the options every adapter shares, see ``common.finish``:
        video (faces from Raw/; default: when Raw/ exists), n_frames,
        face_size, unlabeled_share, seed, val_share, test_share,
        val_speakers, test_speakers (video ids), n_jobs
    """
    root = require_dir("chsims", path, LAYOUT)
    labels, adir, report = _labels(root), _audio_dir(root, audio_dir), Report("chsims")
    rows = []
    for r in labels.itertuples(index=False):
        wav = adir / r.video_id / f"{r.clip_id}.wav"
        mp4 = root / "Raw" / r.video_id / f"{r.clip_id}.mp4"
        try:
            score = float(r.label)
        except ValueError:
            score = float("nan")
        if not -1.0 <= score <= 1.0:
            report.skip(wav, f"label {r.label!r} in label.csv is not a score in [-1, 1]")
        elif not wav.is_file():
            report.skip(wav, f"no extracted WAV for {r.video_id}/{r.clip_id} (see the ffmpeg command in the docs)")
        else:
            lab = sentiment_class(score)
            rows.append(dict(clip_id=f"{r.video_id}_{r.clip_id}", speaker=r.video_id, emotion=SENTIMENTS[lab],
                             label=lab, score=score, text=getattr(r, "text", None),
                             mode=getattr(r, "mode", None), audio=wav, video=mp4 if mp4.is_file() else None))
    if not rows:
        raise layout_error("chsims", root, f"none of the {len(labels)} clips in label.csv has a WAV file in "
                           f"{adir}", LAYOUT, EXTRACT)
    table = pd.DataFrame(rows)
    if official_split:
        if table["mode"].isna().all():
            raise layout_error("chsims", root, "official_split=True but label.csv has no mode column", LAYOUT)
        table["split"] = table["mode"].map(lambda m: MODES.get(str(m).strip().lower()))
        if table["split"].isna().any():
            bad = sorted(set(table.loc[table["split"].isna(), "mode"].astype(str)))
            raise ValueError(f"chsims: label.csv mode values {bad} are not train, valid or test")
    opts = dict(audio_dir=str(adir), official_split=official_split,
                **{k: v for k, v in options.items() if k != "n_jobs"})
    key = files_key("chsims", root, [root / "label.csv"] + list(table["audio"]) + list(table["video"]), opts)
    return finish("chsims", table, SENTIMENTS, report, key, root, progress=progress, **options)
