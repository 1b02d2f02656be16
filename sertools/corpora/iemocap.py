"""IEMOCAP: five sessions of dyadic conversation, one actress and one actor each (Busso et al. 2008).

Each utterance is a WAV file ``SessionN/sentences/wav/<dialog>/<utterance>.wav``;
its label is a line of the dialog's evaluation file
``SessionN/dialog/EmoEvaluation/<dialog>.txt``::

    [6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]

(start and end in seconds, utterance, the annotators' majority category,
and valence, activation, dominance on a 1-5 scale). The letter after the
last underscore (F000, M012) is who speaks: ``Ses01F`` is the actress of
session 1, ``Ses01M`` the actor.

Classes: the usual four of the SER literature, neutral, happy, sad, angry,
with excited (exc) merged into happy (``excited_as_happy``). Frustration,
surprise, fear, disgust, other and "xxx" (no majority) are dropped, or kept
as unlabeled training data with ``others="unlabeled"``.

Splits: leave one session out. The ``test_session`` (default 5) is the
test set, both of its speakers; one speaker of another session validates
(default: the actress of the session before the test session, Ses04F for
session 5, so the test session stays whole). Run all five test sessions and
average to report like the papers do.

Audio only: IEMOCAP's videos show both actors of a dialog side by side, at
dialog length, so the adapter gives no faces.
"""
from __future__ import annotations

import re

import pandas as pd

from ..config import EMOTIONS
from .common import Report, files_key, finish, layout_error, require_dir

LAYOUT = """\
IEMOCAP_full_release/
├── Session1/
│   ├── dialog/EmoEvaluation/Ses01F_impro01.txt    one label line per utterance
│   └── sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav
├── Session2/
└── ... Session5/
"""
LINE = re.compile(r"^\[(\d+\.?\d*) - (\d+\.?\d*)\]\t(\S+)\t(\S+)\t\[([^\]]*)\]")
FOUR = {"neu": "neutral", "hap": "happy", "sad": "sad", "ang": "angry"}


def parse_evaluation(text: str) -> list[dict]:
    """The label lines of one EmoEvaluation file (other lines are the annotators' details)."""
    rows = []
    for line in text.splitlines():
        m = LINE.match(line.strip("\n"))
        if not m:
            continue
        start, end, utt, cat, vad = m.groups()
        v, a, d = (float(x) for x in vad.split(","))
        rows.append(dict(utterance=utt, category=cat, start=float(start), end=float(end),
                         valence=v, activation=a, dominance=d))
    return rows


def speaker_of(utterance: str) -> str:
    """``Ses01F_impro01_M003`` -> ``Ses01M``: the session and the sex of who speaks."""
    return utterance[:5] + utterance.rsplit("_", 1)[-1][0]


def _session_rows(sdir, report: Report) -> list[dict]:
    """All labeled utterances of one session folder, with their WAV paths."""
    evals, wavs = sdir / "dialog" / "EmoEvaluation", sdir / "sentences" / "wav"
    for need in (evals, wavs):
        if not need.is_dir():
            raise layout_error("iemocap", sdir.parent, f"{need.relative_to(sdir.parent)}/ is missing", LAYOUT)
    files = {p.stem: p for p in wavs.rglob("*.wav") if not p.name.startswith(".")}
    rows = []
    for txt in sorted(evals.glob("*.txt")):
        for r in parse_evaluation(txt.read_text(errors="replace")):
            p = files.pop(r["utterance"], None)
            if p is None:
                report.skip(wavs / txt.stem / f"{r['utterance']}.wav", f"labeled in {txt.name} but the WAV file is missing")
                continue
            rows.append(dict(r, audio=p, dialog=txt.stem, session=int(sdir.name[-1])))
    for _, p in sorted(files.items()):
        report.skip(p, "no label line for it in dialog/EmoEvaluation/")
    return rows


def load(path, test_session: int = 5, val_speaker: str | None = None, excited_as_happy: bool = True,
         improvised_only: bool = False, progress: bool = True, **options):
    """Read IEMOCAP from ``path`` (see the module doc for labels and splits).

    Parameters
    ----------
    test_session : 1-5, the session held out for testing
    val_speaker : e.g. "Ses02M"; default the actress of the session before the test session
    excited_as_happy : merge excited into happy (the usual 4-class setting)
    improvised_only : only the improvised dialogs (some papers use them alone)
    options : the options every adapter shares, see ``common.finish``:
        others ("drop" or "unlabeled"), unlabeled_share, seed
    """
    if test_session not in range(1, 6):
        raise ValueError(f"test_session={test_session} is out of range; allowed range is [1, 5]")
    if options.pop("video", False):
        raise ValueError("iemocap: video=True is not supported; the adapter reads audio only (see its doc)")
    root = require_dir("iemocap", path, LAYOUT)
    sessions = {int(d.name[-1]): d for d in root.glob("Session[1-5]") if d.is_dir()}
    if test_session not in sessions or len(sessions) < 2:
        missing = [f"Session{i}" for i in range(1, 6) if i not in sessions]
        raise layout_error("iemocap", root, f"missing {', '.join(missing)} (need the test session "
                           f"Session{test_session} and at least one more)", LAYOUT)
    report = Report("iemocap")
    rows = [r for s in sorted(sessions) for r in _session_rows(sessions[s], report)]
    if not rows:
        raise layout_error("iemocap", root, "no labeled utterance has a WAV file", LAYOUT)
    table = pd.DataFrame(rows)
    if improvised_only:
        table = table[table["dialog"].str.contains("_impro")]
    merge = dict(FOUR, **({"exc": "happy"} if excited_as_happy else {}))
    table["emotion"] = [merge.get(c, c) for c in table["category"]]
    table["label"] = [EMOTIONS.index(merge[c]) if c in merge else -1 for c in table["category"]]
    table["speaker"] = table["utterance"].map(speaker_of)
    table["clip_id"] = table["utterance"]
    prev = sorted(sessions)[sorted(sessions).index(test_session) - 1]
    val = val_speaker or f"Ses{prev:02d}F"
    test = [s for s in table["speaker"].unique() if s.startswith(f"Ses{test_session:02d}")]
    if val in test:
        raise ValueError(f"val_speaker={val!r} belongs to the test session {test_session}; pick a speaker of another session")
    opts = dict(test_session=test_session, val_speaker=val, excited_as_happy=excited_as_happy,
                improvised_only=improvised_only, **{k: v for k, v in options.items() if k != "n_jobs"})
    key = files_key("iemocap", root, list(table["audio"]) + list(root.glob("Session*/dialog/EmoEvaluation/*.txt")), opts)
    return finish("iemocap", table, EMOTIONS, report, key, root, video=False, progress=progress,
                  val_speakers=[val], test_speakers=test, **options)
