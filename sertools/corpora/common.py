"""What every corpus adapter shares: reading, reporting, splitting, assembling.

An adapter (``ravdess.py``, ``cremad.py``, ...) only knows its corpus's
layout and naming: it finds the files and builds a table with one row per
clip (``clip_id``, ``speaker``, ``emotion``, ``label``, the ``audio`` file,
an optional ``video`` file, and whatever else the names encode). ``finish``
turns that table into a ``Clips``, the same container the built-in corpus
returns:

1. clips whose emotion is outside the class set are dropped (or, with
   ``others="unlabeled"``, kept as unlabeled training data, label -1);
2. every audio file is read as 16 kHz mono (``sertools.audio.load_audio``);
   unreadable or empty files are skipped and named in the report;
3. speakers are split into train / val / test, so no voice heard in
   training is tested (speaker-independent evaluation, as in the papers);
4. optionally a share of the training clips becomes the "unlabeled" pool;
5. videos are turned into face crops (``sertools.video``), cached on disk.

Nothing is ever written into the corpus folder: the only writes go to the
cache (``sertools.cache.cache_dir``).
"""
from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..audio import AudioError, load_audio
from ..cache import cache_dir, load_arrays, save_arrays
from ..clips import Clips


class CorpusWarning(UserWarning):
    """Files were skipped or clips lost their video while reading a corpus."""


class Report:
    """What went wrong while reading a corpus, file by file.

    Each entry is a dict ``{"file", "reason", "action"}``; action is
    "skipped" (the clip is not in the corpus) or "kept without video" (the
    audio is used, the face is not). ``warn()`` prints one warning with the
    counts; the full list goes to ``clips.meta["report"]`` (show it with
    ``pandas.DataFrame(clips.meta["report"])``).
    """

    def __init__(self, corpus: str):
        self.corpus, self.rows = corpus, []

    def skip(self, file, reason: str) -> None:
        """Record that ``file`` was left out of the corpus, and why."""
        self.rows.append({"file": str(file), "reason": reason, "action": "skipped"})

    def no_video(self, file, reason: str) -> None:
        """Record that ``file``'s clip keeps its audio but has no face, and why."""
        self.rows.append({"file": str(file), "reason": reason, "action": "kept without video"})

    def count(self, action: str) -> int:
        """How many entries have ``action`` ("skipped" or "kept without video")."""
        return sum(r["action"] == action for r in self.rows)

    def warn(self) -> None:
        """One ``CorpusWarning`` with the counts and the first three entries; nothing when there are none."""
        if not self.rows:
            return
        parts = [f"{self.count(a)} file(s) {a}" for a in ("skipped", "kept without video") if self.count(a)]
        first = "; ".join(f"{Path(r['file']).name}: {r['reason']}" for r in self.rows[:3])
        warnings.warn(f"{self.corpus}: {', '.join(parts)} (e.g. {first}); "
                      f"the full list is in clips.meta['report']", CorpusWarning, stacklevel=3)


def layout_error(corpus: str, root, problem: str, layout: str, hint: str = "") -> FileNotFoundError:
    """A ``FileNotFoundError`` that says what is missing and shows the expected layout."""
    msg = f"{corpus} corpus at {root}: {problem}.\nExpected layout:\n{layout.rstrip()}"
    return FileNotFoundError(msg + (f"\n{hint}" if hint else ""))


def require_dir(corpus: str, root, layout: str) -> Path:
    """``root`` as a Path, or the layout error when it is not a folder."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise layout_error(corpus, root, "no such folder" if not root.exists() else "not a folder", layout)
    return root


def files_key(corpus: str, root: Path, files, options: dict) -> str:
    """A cache key from the corpus folder, its files (name, size, change time) and the options.

    Any added, removed, replaced or touched file gives a new key, so cached
    features and face crops never go stale.
    """
    h = hashlib.sha1()
    h.update(json.dumps([corpus, str(Path(root).resolve()), options], sort_keys=True, default=str).encode())
    for f in sorted({Path(f) for f in files if f is not None}):
        try:
            st = f.stat()
            h.update(f"{f}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        except OSError:
            h.update(f"{f}|missing\n".encode())
    return f"{corpus}-{h.hexdigest()[:16]}"


def read_waves(paths, report: Report, sr: int = 16000, progress: bool = True) -> list:
    """Each file as float32 mono at ``sr`` Hz, or None (skipped and reported) when unusable."""
    from tqdm.auto import tqdm
    out = []
    for p in tqdm(list(paths), desc=f"{report.corpus}: reading audio", disable=not progress, leave=False):
        try:
            if Path(p).stat().st_size == 0:
                raise AudioError(f"{p}: the file is empty (0 bytes)")
            out.append(load_audio(p, sr))
        except (AudioError, OSError) as e:
            report.skip(p, str(e).removeprefix(f"{p}: "))
            out.append(None)
    return out


def faces_of(path, n_frames: int = 8, size: int = 64, detect: bool = True):
    """Face crops of one video: ``(crops or None, reason)``, reason "" when faces were found.

    ``detect=False`` takes the frames as they are (videos that already are
    face crops, like those ``sertools corpus`` writes), only resized.
    """
    from ..video import VideoError, face_crops, read_frames, resize_frames
    try:
        frames = read_frames(path, n_frames)
    except VideoError as e:
        return None, str(e).removeprefix(f"{path}: ")
    if not detect:
        return resize_frames(frames, size), ""
    crops, found = face_crops(frames, size)
    if not found.any():
        return None, f"no face found in any of the {len(frames)} sampled frames"
    return crops, ""


def read_faces(videos, report: Report, key: str | None, n_frames: int = 8, size: int = 64,
               detect: bool = True, n_jobs: int = 1, progress: bool = True) -> list:
    """Face crops for each video path (None where a clip has no video).

    Decoding and face detection take about a tenth of a second per video,
    minutes for a whole corpus, so the result is cached under ``key``
    (with the reasons for clips without a face, which go to the report
    again on every load). ``n_jobs > 1`` worker processes share the work:
    worth it for a whole real corpus, not for a small one (each worker
    takes seconds to start).
    """
    videos = list(videos)
    path = cache_dir() / f"faces-{key}-{n_frames}-{size}-{int(detect)}.npz" if key else None
    if path is not None and path.exists():
        z = load_arrays(path)
        parts = np.split(z["crops"], np.cumsum(z["counts"])[:-1]) if len(z["counts"]) else []
        results = [(c if ok else None, str(r)) for c, ok, r in zip(parts, z["has"], z["reasons"])]
    else:
        results = _compute_faces(videos, n_frames, size, detect, n_jobs, progress, report.corpus)
        if path is not None:
            crops = [c for c, _ in results if c is not None]
            save_arrays(path, crops=np.concatenate(crops) if crops else np.zeros((0, size, size, 3), np.uint8),
                        counts=np.array([0 if c is None else len(c) for c, _ in results], int),
                        has=np.array([c is not None for c, _ in results]),
                        reasons=np.array([r for _, r in results], dtype=str))
    for v, (crops, reason) in zip(videos, results):
        if v is not None and crops is None:
            report.no_video(v, reason)
    return [c for c, _ in results]


def _compute_faces(videos, n_frames, size, detect, n_jobs, progress, corpus):
    from tqdm.auto import tqdm
    todo = [i for i, v in enumerate(videos) if v is not None]
    results = [(None, "")] * len(videos)
    it = tqdm(todo, desc=f"{corpus}: faces from videos", disable=not progress, leave=False)
    if n_jobs > 1 and len(todo) >= 32:
        from joblib import Parallel, delayed
        done = Parallel(n_jobs=n_jobs)(delayed(faces_of)(videos[i], n_frames, size, detect) for i in it)
    else:
        done = [faces_of(videos[i], n_frames, size, detect) for i in it]
    for i, r in zip(todo, done):
        results[i] = r
    return results


def speaker_splits(speakers, val_share: float = 0.15, test_share: float = 0.2, seed: int = 0,
                   val_speakers=None, test_speakers=None, groups: dict | None = None) -> dict:
    """Map each speaker to "train", "val" or "test"; no speaker is in two splits.

    Explicit ``val_speakers`` / ``test_speakers`` win; otherwise the
    speakers are shuffled with ``seed`` and the first ``test_share`` of
    them test, the next ``val_share`` validate (at least one each). With
    ``groups`` (speaker -> e.g. gender) the shuffled groups are interleaved
    first, so val and test get a balanced mix.
    """
    speakers = sorted(set(map(str, speakers)))
    known = set(speakers)
    for name, chosen in (("val_speakers", val_speakers), ("test_speakers", test_speakers)):
        unknown = set(map(str, chosen or [])) - known
        if unknown:
            raise ValueError(f"{name}: no clips from speaker(s) {sorted(unknown)}; speakers are {speakers}")
    if val_speakers is None or test_speakers is None:
        if len(speakers) < 3:
            raise ValueError(f"speaker-disjoint train/val/test splits need at least 3 speakers; found {speakers}")
        order = _interleave(speakers, groups or {}, np.random.default_rng([seed, 23]))
        n_test = max(1, round(test_share * len(order)))
        n_val = max(1, min(round(val_share * len(order)), len(order) - n_test - 1))
        if test_speakers is None:  # never one of the chosen val speakers
            test_speakers = [s for s in order if s not in set(map(str, val_speakers or []))][:n_test]
        rest = [s for s in order if s not in set(map(str, test_speakers))]
        val_speakers = rest[:n_val] if val_speakers is None else val_speakers
    both = set(map(str, val_speakers)) & set(map(str, test_speakers))
    if both:
        raise ValueError(f"speaker(s) {sorted(both)} are in both val_speakers and test_speakers; a speaker "
                         "belongs to one split")
    out = {s: "train" for s in speakers}
    out.update({str(s): "val" for s in val_speakers})
    out.update({str(s): "test" for s in test_speakers})
    if "train" not in out.values():
        raise ValueError("no training speakers left after choosing val and test speakers")
    return out


def _interleave(speakers, groups: dict, rng) -> list:
    """Speakers shuffled within each group, then taken from the groups in turn."""
    by = {}
    for s in rng.permutation(speakers):
        by.setdefault(groups.get(s, ""), []).append(str(s))
    lists = [by[g] for g in sorted(by)]
    return [lst[i] for i in range(max(map(len, lists))) for lst in lists if i < len(lst)]


def mark_unlabeled(table: pd.DataFrame, share: float, seed: int = 0) -> pd.DataFrame:
    """Move ``share`` of the training clips (chosen at random) to the "unlabeled" split.

    With ``share=0`` nothing moves and ``sertools.views`` uses the training
    clips that the label budget did not pick as the unlabeled pool.
    """
    if not 0.0 <= share < 1.0:
        raise ValueError(f"unlabeled_share={share} is out of range; allowed range is [0, 1)")
    train = np.flatnonzero(table["split"].to_numpy() == "train")
    n = int(round(share * len(train)))
    if n:
        pick = np.random.default_rng([seed, 29]).choice(train, n, replace=False)
        table.loc[table.index[pick], "split"] = "unlabeled"
    return table


def finish(name: str, table: pd.DataFrame, classes, report: Report, key: str, root: Path, *,
           video: bool | None = None, n_frames: int = 8, face_size: int = 64, detect: bool = True,
           others: str = "drop", unlabeled_share: float = 0.0, seed: int = 0, n_jobs: int = 1,
           progress: bool = True, **split_options) -> Clips:
    """Turn an adapter's table into a ``Clips`` (steps 1-5 of the module doc).

    ``table`` has one row per clip with ``clip_id``, ``speaker``, ``emotion``,
    ``label`` (-1 outside the class set), ``audio`` (a path) and optionally
    ``video`` (a path or None) and ``split`` (kept if given, e.g. official
    splits).

    Options every adapter passes on (``load_corpus("ravdess:PATH", **options)``):

    video : read faces from the videos (default: when the corpus has any)
    n_frames, face_size : frames sampled per video (at most), crop side in pixels
    others : "drop" (default) clips outside the class set, or keep them as
        "unlabeled" training data
    unlabeled_share : share of the training clips moved to the "unlabeled"
        split (default 0: the label budget's leftovers are the unlabeled pool)
    seed : for the speaker shuffle and the unlabeled share
    val_share, test_share, val_speakers, test_speakers, groups : see ``speaker_splits``
    n_jobs : worker processes for the videos
    """
    if others not in ("drop", "unlabeled"):
        raise ValueError(f"others={others!r} is not allowed; choose drop or unlabeled")
    t = table.reset_index(drop=True)
    dropped = t.loc[t["label"] < 0, "emotion"].value_counts().to_dict() if others == "drop" else {}
    t = t[(t["label"] >= 0) | (others == "unlabeled")].reset_index(drop=True)
    waves = read_waves(t["audio"], report, progress=progress)
    if all(w is None for w in waves):
        report.warn()
        raise ValueError(f"{name} corpus at {root}: no usable clips ({report.count('skipped')} file(s) skipped; "
                         f"first: {report.rows[0] if report.rows else 'none'})")
    t, waves = _keep(t, waves, [w is not None for w in waves])
    t, waves, gone = assign_splits(t, waves, seed, **split_options)
    dropped.update({f"{k} (val/test speaker)": v for k, v in gone.items()})
    t = mark_unlabeled(t, unlabeled_share, seed)
    has_video = "video" in t and t["video"].notna().any()
    frames = None
    if video or (video is None and has_video):
        if not has_video:
            raise ValueError(f"{name} corpus at {root}: video=True but no video files were found for the clips")
        frames = read_faces([None if pd.isna(v) else v for v in t["video"]], report, key, n_frames,
                            face_size, detect, n_jobs, progress)
    report.warn()
    first = ["clip_id", "split", "speaker", "label", "emotion"]
    t = _relative(t[first + [c for c in t.columns if c not in first]], root)
    return Clips(waves=waves, table=t, classes=tuple(classes), sr=16000, frames=frames, name=name,
                 meta={"cache_key": key, "root": str(root), "report": report.rows, "dropped": dropped})


def _keep(t: pd.DataFrame, waves: list, keep) -> tuple[pd.DataFrame, list]:
    keep = np.asarray(keep, bool)
    return t[keep].reset_index(drop=True), [w for w, k in zip(waves, keep) if k]


def assign_splits(t: pd.DataFrame, waves: list, seed: int = 0, **split_options):
    """Fill the ``split`` column speaker-disjointly (unless the table has one).

    Clips without a class (label -1: other emotions kept with
    ``others="unlabeled"``, or unlabeled rows of a folder corpus) become
    "unlabeled" when their speaker trains and are dropped when they are in
    val or test: unlabeled data must not come from the held-out speakers.
    Returns the table, the waves and the emotions of the dropped clips.
    """
    if "split" not in t:
        t["split"] = t["speaker"].map(speaker_splits(t["speaker"], seed=seed, **split_options))
    else:
        seen = set(t.loc[t["split"].isin(["train", "unlabeled"]), "speaker"])
        shared = sorted(seen & set(t.loc[t["split"].isin(["val", "test"]), "speaker"]))
        if shared:
            raise ValueError(f"the given splits are not speaker-disjoint: speaker(s) {shared[:5]} are in training "
                             f"and in val or test; let the adapter make the splits instead")
    other = (t["label"] < 0).to_numpy()
    t.loc[other & (t["split"] == "train").to_numpy(), "split"] = "unlabeled"
    keep = ~other | (t["split"] == "unlabeled").to_numpy()
    gone = t.loc[~keep, "emotion"].fillna("").replace("", "(no label)").value_counts().to_dict()
    return *_keep(t, waves, keep), gone


def _relative(t: pd.DataFrame, root: Path) -> pd.DataFrame:
    """File columns as paths relative to the corpus folder (``clips.meta["root"]``)."""
    def rel(p):
        if p is None or (isinstance(p, float) and np.isnan(p)):
            return None
        p = Path(p)
        return str(p.relative_to(root)) if p.is_relative_to(root) else str(p)
    for c in ("audio", "video"):
        if c in t:
            t[c] = [rel(p) for p in t[c]]
    return t
