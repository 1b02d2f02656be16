"""CREMA-D: 91 actors, 12 sentences, six emotions, audio and video (Cao et al. 2014).

File names have four fields, ``SPEAKER_SENTENCE_EMOTION_LEVEL``:
``1001_DFA_ANG_XX.wav`` is actor 1001 saying "Don't forget a jacket" (DFA)
angrily at an unspecified level. Emotions: ANG angry, DIS disgust, FEA fear,
HAP happy, NEU neutral, SAD sad; levels LO low, MD medium, HI high, XX
unspecified (only the sentence IEO was recorded at three levels).

Classes: the kit's four (neutral, happy, sad, angry); disgust and fear are
dropped, or kept as unlabeled training data with ``others="unlabeled"``.
Splits are by actor; when ``VideoDemographics.csv`` (ActorID, Sex, ...) is
present, val and test get a balanced mix of the sexes. Faces come from the
``VideoFlash/*.flv`` files (or ``VideoMP4/*.mp4``) of the same name.
Known quirk: a few CREMA-D releases hold an empty WAV file (e.g.
1076_MTI_SAD_XX); it is skipped and named in the report.
"""
from __future__ import annotations

import re

import pandas as pd

from ..config import EMOTIONS
from .common import Report, files_key, finish, layout_error, require_dir

LAYOUT = """\
CREMA-D/
├── AudioWAV/
│   ├── 1001_DFA_ANG_XX.wav     speaker_sentence_emotion_level
│   └── ...
├── VideoFlash/                 (optional: faces)
│   ├── 1001_DFA_ANG_XX.flv
│   └── ...
└── VideoDemographics.csv       (optional: ActorID, Sex, ... for sex-balanced splits)
"""
NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")
CODES = {"ANG": "angry", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}


def parse_name(stem: str) -> dict:
    """The fields of a CREMA-D file name (without extension); ValueError says what is wrong."""
    m = NAME.match(stem)
    if not m:
        raise ValueError("name is not CREMA-D's SPEAKER_SENTENCE_EMOTION_LEVEL (e.g. 1001_DFA_ANG_XX)")
    speaker, sentence, emo, level = m.groups()
    if emo not in CODES:
        raise ValueError(f"emotion {emo} is not one of {', '.join(CODES)}")
    if level not in LEVELS:
        raise ValueError(f"level {level} is not one of {', '.join(LEVELS)}")
    return dict(speaker=speaker, sentence=sentence, source_emotion=CODES[emo], level=LEVELS[level])


def _videos(root) -> dict:
    """Video files by name stem, from VideoFlash/ (flv) or VideoMP4/ (mp4)."""
    out = {}
    for folder, ext in (("VideoMP4", "*.mp4"), ("VideoFlash", "*.flv")):
        if (root / folder).is_dir():
            out.update({p.stem: p for p in (root / folder).glob(ext)})
    return out


def _sexes(root) -> dict:
    """Actor -> sex from VideoDemographics.csv, or {} when it is absent or unreadable."""
    try:
        d = pd.read_csv(root / "VideoDemographics.csv", dtype=str)
        return dict(zip(d["ActorID"].str.strip(), d["Sex"].str.strip().str.lower()))
    except (OSError, KeyError, ValueError):
        return {}


def load(path, progress: bool = True, **options):
    """Read CREMA-D from ``path`` (see the module doc for names and classes).

    ``options`` are the options every adapter shares, see ``common.finish``:
    video (faces from VideoFlash; default: when there are any), n_frames,
    face_size, others ("drop" or "unlabeled"), unlabeled_share, seed,
    val_share, test_share, val_speakers, test_speakers (e.g. ``["1001"]``), n_jobs.
    """
    root = require_dir("cremad", path, LAYOUT)
    if not (root / "AudioWAV").is_dir():
        raise layout_error("cremad", root, "the folder AudioWAV/ is missing", LAYOUT)
    report, videos, sexes, rows = Report("cremad"), _videos(root), _sexes(root), []
    for p in sorted((root / "AudioWAV").iterdir()):
        if p.name.startswith(".") or p.is_dir():
            continue
        try:
            if p.suffix.lower() != ".wav":
                raise ValueError("not a .wav file")
            f = parse_name(p.stem)
        except ValueError as e:
            report.skip(p, str(e))
            continue
        emo = f["source_emotion"]
        rows.append(dict(clip_id=p.stem, emotion=emo, label=EMOTIONS.index(emo) if emo in EMOTIONS else -1,
                         audio=p, video=videos.get(p.stem), sex=sexes.get(f["speaker"]), **f))
    if not rows:
        raise layout_error("cremad", root, "AudioWAV/ holds no files named like 1001_DFA_ANG_XX.wav", LAYOUT)
    table = pd.DataFrame(rows)
    opts = {k: v for k, v in options.items() if k != "n_jobs"}
    key = files_key("cremad", root, list(table["audio"]) + list(videos.values()), opts)
    return finish("cremad", table, EMOTIONS, report, key, root, groups=sexes or None, progress=progress, **options)
