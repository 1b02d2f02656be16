"""RAVDESS: 24 actors saying two sentences with eight emotions (Livingstone & Russo 2018).

Every file name is seven two-digit fields, ``MM-CC-EE-II-SS-RR-AA``:

==========  =====================================================================
MM modality   01 audio-video, 02 video only, 03 audio only
CC channel    01 speech, 02 song
EE emotion    01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful,
              07 disgust, 08 surprised
II intensity  01 normal, 02 strong (neutral has only normal)
SS statement  01 "Kids are talking by the door", 02 "Dogs are sitting by the door"
RR repetition 01 or 02
AA actor      01 to 24; odd numbers are male actors, even female
==========  =====================================================================

So ``03-01-05-01-02-01-12.wav`` is actor 12 (female) speaking sentence 2 with
normal-intensity anger, first take. The audio (``03-...wav``) and the video
of the same take (``01-...mp4``, or the silent ``02-...mp4``) differ only
in the first field: the adapter pairs them to get the speaker's face.

Classes: the kit's four (neutral, happy, sad, angry). ``calm_as_neutral``
merges calm into neutral (a common choice: calm is a low-arousal neutral);
fearful, disgust and surprised are dropped, or kept as unlabeled training
data with ``others="unlabeled"``. Splits are by actor, balanced by sex.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..config import EMOTIONS
from .common import Report, files_key, finish, layout_error, require_dir

LAYOUT = """\
RAVDESS/                              (any nesting below this folder works)
├── Actor_01/
│   ├── 03-01-01-01-01-01-01.wav      audio only: modality-channel-emotion-
│   ├── ...                               intensity-statement-repetition-actor
│   └── 01-01-01-01-01-01-01.mp4      audio-video of the same take (optional: faces)
├── Actor_02/
└── ... Actor_24/
"""
NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
CODES = {1: "neutral", 2: "calm", 3: "happy", 4: "sad", 5: "angry", 6: "fearful", 7: "disgust", 8: "surprised"}
CHANNELS = {"speech": ("01",), "song": ("02",), "both": ("01", "02")}


def parse_name(stem: str) -> dict:
    """The fields of a RAVDESS file name (without extension); ValueError says what is wrong."""
    m = NAME.match(stem)
    if not m:
        raise ValueError("name is not RAVDESS's seven two-digit fields MM-CC-EE-II-SS-RR-AA")
    mod, ch, emo, inten, stmt, rep, actor = (int(x) for x in m.groups())
    checks = [(mod in (1, 2, 3), f"modality {mod:02d} is not 01-03"), (ch in (1, 2), f"channel {ch:02d} is not 01-02"),
              (emo in CODES, f"emotion {emo:02d} is not 01-08"), (inten in (1, 2), f"intensity {inten:02d} is not 01-02"),
              (1 <= actor <= 24, f"actor {actor:02d} is not 01-24")]
    for ok, why in checks:
        if not ok:
            raise ValueError(why)
    return dict(modality=mod, channel="speech" if ch == 1 else "song", source_emotion=CODES[emo],
                intensity="normal" if inten == 1 else "strong", statement=stmt, repetition=rep,
                speaker=f"Actor_{actor:02d}", sex="male" if actor % 2 else "female")


def _scan(root: Path, channels, report: Report):
    """Audio files and videos by take (the name without the modality field)."""
    audio, videos = {}, {}
    for p in sorted(root.rglob("*")):
        if p.suffix.lower() not in (".wav", ".mp4") or p.name.startswith("."):
            continue
        try:
            f = parse_name(p.stem)
        except ValueError as e:
            report.skip(p, str(e))
            continue
        take = p.stem[3:]
        if take[:2] not in channels:
            continue
        if p.suffix.lower() == ".wav":
            if f["modality"] != 3:
                report.skip(p, f"a .wav file should be modality 03 (audio only), not {f['modality']:02d}")
            elif take in audio:
                report.skip(p, f"the same take as {audio[take][0]}")
            else:
                audio[take] = (p, f)
        elif f["modality"] == 3:
            report.skip(p, "a video file should be modality 01 or 02, not 03 (audio only)")
        elif take not in videos or f["modality"] == 1:
            videos[take] = p  # prefer the audio-video file; the silent one shows the same picture
    return audio, videos


def load(path, calm_as_neutral: bool = False, vocal_channel: str = "speech", progress: bool = True,
         **options):
    """Read RAVDESS from ``path`` (see the module doc for names and classes).

    Parameters
    ----------
    calm_as_neutral : count calm as neutral (default: drop calm)
    vocal_channel : "speech" (default), "song" or "both"
    options : the options every adapter shares, see ``common.finish``:
        video (faces from the paired videos; default: when there are any),
        n_frames, face_size, others ("drop" or "unlabeled"),
        unlabeled_share, seed, val_share, test_share, val_speakers,
        test_speakers (e.g. ``["Actor_23", "Actor_24"]``), n_jobs
    """
    if vocal_channel not in CHANNELS:
        raise ValueError(f"vocal_channel={vocal_channel!r} is not allowed; choose one of {', '.join(CHANNELS)}")
    root = require_dir("ravdess", path, LAYOUT)
    report = Report("ravdess")
    audio, videos = _scan(root, CHANNELS[vocal_channel], report)
    if not audio:
        hint = ("Found videos but no audio files: OpenCV cannot read sound, so get RAVDESS's audio "
                "zips (Audio_Speech_Actors_01-24.zip) or extract it: "
                "ffmpeg -i 01-...-12.mp4 -vn -ac 1 -ar 16000 03-...-12.wav") if videos else ""
        raise layout_error("ravdess", root, f"no {vocal_channel} audio files named like "
                           f"03-01-05-01-02-01-12.wav", LAYOUT, hint)
    merge = {"neutral": "neutral", "happy": "happy", "sad": "sad", "angry": "angry"}
    if calm_as_neutral:
        merge["calm"] = "neutral"
    rows = []
    for take, (p, f) in sorted(audio.items()):
        cls = merge.get(f["source_emotion"])
        rows.append(dict(clip_id=p.stem, speaker=f["speaker"], emotion=cls or f["source_emotion"],
                         label=EMOTIONS.index(cls) if cls else -1, audio=p, video=videos.get(take),
                         **{k: v for k, v in f.items() if k not in ("speaker", "modality")}))
    table = pd.DataFrame(rows)
    opts = dict(calm_as_neutral=calm_as_neutral, vocal_channel=vocal_channel,
                **{k: v for k, v in options.items() if k not in ("n_jobs",)})
    key = files_key("ravdess", root, [r["audio"] for r in rows] + [r["video"] for r in rows], opts)
    groups = dict(zip(table["speaker"], table["sex"]))
    return finish("ravdess", table, EMOTIONS, report, key, root, groups=groups, progress=progress, **options)
