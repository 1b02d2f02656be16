"""A plain folder of files: the layout ``sertools corpus`` writes, and the
simplest way to bring your own recordings.

::

    my_corpus/
    ├── labels.csv        clip_id,split,speaker,emotion[,face_emotion,intensity,domain]
    ├── audio/
    │   └── <clip_id>.wav     any rate, mono or stereo (read as 16 kHz mono)
    └── video/                (optional)
        └── <clip_id>.mp4     face video of the same clip

``labels.csv`` needs ``clip_id``, ``speaker`` and ``emotion`` (the class
name; leave it empty for a clip without a label). ``split`` (train,
unlabeled, val, test) is optional: without it the adapter makes
speaker-disjoint splits itself. The class set comes from the emotion names:
the built-in order (neutral, happy, sad, angry) or (negative, neutral,
positive) when the names are among those, else alphabetical; pass
``classes=`` to choose it.

The videos are taken as face crops already (that is what ``sertools
corpus`` writes), only resized; ``detect_faces=True`` runs the Haar face
detector on them first, for videos of whole scenes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..cache import atomic_write
from ..clips import SPLITS, Clips
from ..config import EMOTIONS, SENTIMENTS
from .common import Report, files_key, finish, layout_error, require_dir

LAYOUT = """\
my_corpus/
├── labels.csv            clip_id,split,speaker,emotion[,face_emotion,intensity,domain]
├── audio/
│   └── <clip_id>.wav
└── video/                (optional: face videos)
    └── <clip_id>.mp4
"""
COLUMNS = ("clip_id", "split", "speaker", "emotion", "face_emotion", "intensity", "domain")


def class_order(names) -> tuple:
    """A stable class order for a set of emotion names (see the module doc)."""
    names = {str(n) for n in names if str(n)}
    for known in (EMOTIONS, SENTIMENTS):
        if names <= set(known):
            return tuple(c for c in known if c in names)
    return tuple(sorted(names))


def _name_of(idx, classes) -> list:
    return [classes[int(i)] if int(i) >= 0 else "" for i in idx]


def labels_table(clips: Clips) -> pd.DataFrame:
    """The labels.csv of a corpus: class names instead of indices, extra columns where known."""
    t = clips.table
    out = pd.DataFrame({"clip_id": t["clip_id"].astype(str), "split": t["split"], "speaker": t["speaker"].astype(str),
                        "emotion": _name_of(t["label"], clips.classes)})
    if "face_label" in t:
        out["face_emotion"] = _name_of(t["face_label"], clips.classes)
    for c in ("intensity", "domain", "rater_agreement"):
        if c in t:
            out[c] = t[c].to_numpy()
    if "rater_votes" in t:  # the built-in corpus's hidden truth: what the speaker meant, and what each rater heard
        out["intended_emotion"] = t["emotion"].to_numpy()
        out["rater_votes"] = t["rater_votes"].to_numpy()
    return out


def _prepare_out(out: Path) -> None:
    """Refuse a folder that holds other things; clear the files of an earlier write."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / "labels.csv").is_file():
            raise ValueError(f"{out} is not empty and holds no labels.csv: choose a new or empty folder "
                             f"(sertools never writes over files it did not write)")
        old = pd.read_csv(out / "labels.csv", dtype=str, keep_default_na=False)
        for cid in old.get("clip_id", []):
            (out / "audio" / f"{cid}.wav").unlink(missing_ok=True)
            (out / "video" / f"{cid}.mp4").unlink(missing_ok=True)
        (out / "labels.csv").unlink()


def write_folder(clips: Clips, out, progress: bool = True) -> Path:
    """Write a corpus as ``audio/<clip_id>.wav`` (16 kHz mono, 16-bit),
    ``video/<clip_id>.mp4`` (for clips with frames) and ``labels.csv``.

    ``load(out)`` reads it back. The videos play at the pace that spreads
    the frames over the clip's duration. labels.csv is written last, so a
    folder interrupted halfway is never mistaken for a finished corpus.
    Returns the folder.
    """
    import soundfile as sf
    import torch
    import torchaudio
    from tqdm.auto import tqdm

    from ..video import write_video
    out = Path(out).expanduser()
    bad = [c for c in clips.table["clip_id"].astype(str) if not c or any(ch in c for ch in '/\\:*?"<>|')]
    if bad:
        raise ValueError(f"clip ids {bad[:3]} cannot be file names")
    _prepare_out(out)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    ids = clips.table["clip_id"].astype(str)
    for i in tqdm(range(len(clips)), desc="writing corpus", disable=not progress, leave=False):
        wave = torch.as_tensor(np.asarray(clips.waves[i], np.float32))
        if clips.sr != 16000:
            wave = torchaudio.functional.resample(wave, clips.sr, 16000)
        sf.write(out / "audio" / f"{ids[i]}.wav", np.clip(wave.numpy(), -1, 1), 16000, subtype="PCM_16")
        frames = clips.frames[i] if clips.frames is not None else None
        if frames is not None and len(frames):
            write_video(out / "video" / f"{ids[i]}.mp4", frames, fps=len(frames) * 16000 / max(len(wave), 1))
    atomic_write(out / "labels.csv", lambda tmp: labels_table(clips).to_csv(tmp, index=False))
    return out


def _read_labels(root: Path) -> pd.DataFrame:
    path = root / "labels.csv"
    if not path.is_file():
        raise layout_error("folder", root, "labels.csv is missing", LAYOUT)
    try:
        t = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, OSError) as e:
        raise ValueError(f"{path}: cannot be read as CSV ({e})") from None
    missing = [c for c in ("clip_id", "speaker", "emotion") if c not in t.columns]
    if missing:
        raise layout_error("folder", root, f"labels.csv lacks the column(s) {', '.join(missing)}", LAYOUT)
    if "split" in t:
        bad = sorted(set(t["split"]) - set(SPLITS))
        if bad:
            raise ValueError(f"{path}: split values {bad} are not among {', '.join(SPLITS)}")
    if "intensity" in t:
        t["intensity"] = pd.to_numeric(t["intensity"], errors="coerce")
    return t


def load(path, classes=None, detect_faces: bool = False, progress: bool = True, **options) -> Clips:
    """Read a folder corpus (the layout in the module doc).

    Parameters
    ----------
    classes : the class names in order (a list, or "a,b,c"); default from the emotion names
    detect_faces : run the face detector on the videos (default: they are face crops already)
    options : the options every adapter shares, see ``common.finish``:
        video, n_frames, face_size, unlabeled_share, seed, and, when
        labels.csv has no split column, val_share, test_share,
        val_speakers, test_speakers
    """
    root = require_dir("folder", path, LAYOUT)
    t = _read_labels(root)
    if not (root / "audio").is_dir():
        raise layout_error("folder", root, "the folder audio/ is missing", LAYOUT)
    classes = tuple(classes.split(",") if isinstance(classes, str) else classes) if classes else class_order(t["emotion"])
    if not classes:
        raise ValueError(f"{root / 'labels.csv'}: no emotion names in the emotion column; a corpus needs classes")
    report = Report("folder")
    t["label"] = [classes.index(e) if e in classes else -1 for e in t["emotion"]]
    if "face_emotion" in t:
        t["face_label"] = [classes.index(e) if e in classes else -1 for e in t["face_emotion"]]
    t["audio"] = [root / "audio" / f"{c}.wav" for c in t["clip_id"]]
    t["video"] = [v if v.is_file() else None for v in (root / "video" / f"{c}.mp4" for c in t["clip_id"])]
    listed = set(t["audio"])
    for p in sorted((root / "audio").glob("*.wav")):
        if p not in listed:
            report.skip(p, "not listed in labels.csv")
    present = np.array([p.is_file() for p in t["audio"]], bool)
    for p in t.loc[~present, "audio"]:
        report.skip(p, "listed in labels.csv but the file is missing")
    t = t[present].reset_index(drop=True)
    opts = dict(classes=list(classes), detect_faces=detect_faces, **{k: v for k, v in options.items() if k != "n_jobs"})
    key = files_key("folder", root, [root / "labels.csv"] + list(t["audio"]) + list(t["video"]), opts)
    options.setdefault("others", "unlabeled")  # a clip without a label is unlabeled data
    return finish("folder", t, classes, report, key, root, detect=detect_faces, progress=progress, **options)
