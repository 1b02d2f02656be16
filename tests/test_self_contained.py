"""The repository carries its own design documents and points nowhere outside.

Every file git tracks is scanned (binary files are skipped):

1. no reference to design notes kept outside the repository: a path into a
   sibling ``shared`` folder, the upper-case name of the old design card, or a
   bare name of one of the kit's documents (``methods`` or ``emotion-cues``
   plus ``.md``) that is not written as ``docs/<name>.md``;
2. every ``docs/<name>.md`` that any file mentions exists, and so does every
   relative ``<name>.md`` link inside ``docs/``.

Inside ``docs/`` the pages link to each other by bare relative names (the
usual Markdown way, resolved against ``docs/``), so rule 1's bare-name check
does not apply there; rule 2 checks that those links resolve instead.

The patterns are assembled from pieces below so that this file does not
match them itself.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = "docs"

_MD = "." + "md"
OUTSIDE = [re.escape("shared" + "/" + "design"),            # the notes' folder
           re.escape(".." + "/" + "shared"),                # any path up into a sibling shared folder
           re.escape("DESIGN" + _MD)]                       # the old design card (case matters: docs/design.md is ours)
BARE_NAMES = ("methods", "emotion-cues")
BARE = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, BARE_NAMES)) + ")" + re.escape(_MD))
DOC_REF = re.compile(re.escape(DOCS + "/") + r"([\w.-]+?)" + re.escape(_MD))
LINK = re.compile(r"\]\(([\w.-]+?)" + re.escape(_MD) + r"(?:#[\w-]*)?\)")


def tracked_texts() -> dict[str, str]:
    """Path -> text of every file git tracks that reads as UTF-8 text."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"not a git checkout ({e})")
    texts = {}
    for rel in filter(None, out.decode().split("\0")):
        path = ROOT / rel
        if rel.startswith(".git/") or not path.is_file():  # deleted but not yet committed
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        try:
            texts[rel] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return texts


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def problems(texts: dict[str, str], existing: set[str]) -> list[str]:
    """Every rule broken, as 'path:line: what' (``existing``: the docs/ files that exist)."""
    found = []
    outside = re.compile("|".join(OUTSIDE))
    for rel, text in texts.items():
        in_docs = rel.startswith(DOCS + "/")
        for m in outside.finditer(text):
            found.append(f"{rel}:{_line(text, m.start())}: refers outside the repository ({m.group(0)!r})")
        if not in_docs:
            for m in BARE.finditer(text):
                if text[max(0, m.start() - len(DOCS) - 1):m.start()] != DOCS + "/":
                    found.append(f"{rel}:{_line(text, m.start())}: bare {m.group(0)!r}; write {DOCS}/{m.group(0)}")
        for m in DOC_REF.finditer(text):
            name = m.group(1) + _MD
            if name not in existing:
                found.append(f"{rel}:{_line(text, m.start())}: {DOCS}/{name} does not exist")
        if in_docs:
            for m in LINK.finditer(text):
                name = m.group(1) + _MD
                if name not in existing:
                    found.append(f"{rel}:{_line(text, m.start())}: link to {name}, which is not in {DOCS}/")
    return found


def docs_present() -> set[str]:
    d = ROOT / DOCS
    return {p.name for p in d.glob("*" + _MD)} if d.is_dir() else set()


def test_no_tracked_file_points_outside_the_repository():
    found = problems(tracked_texts(), docs_present())
    assert not found, "\n".join(found)


def test_the_documents_code_points_to_exist():
    for name in ("README", "design", "methods", "emotion-cues"):
        assert (ROOT / DOCS / (name + _MD)).is_file(), f"{DOCS}/{name}{_MD} is missing"


@pytest.mark.parametrize("line", [
    "see " + "../" + "shared" + "/design/" + "methods" + _MD,
    "as in " + "DESIGN" + _MD,
    "the table in " + "emotion-cues" + _MD,
    "formulas: " + "sertools/" + "methods" + _MD,
    "read " + DOCS + "/" + "nowhere" + _MD,
])
def test_the_check_catches_a_bad_line(line):
    """Each kind of bad reference is caught (so the scan above can fail)."""
    assert problems({"sertools/x.py": f"# {line}\n"}, docs_present())


def test_the_check_accepts_good_lines():
    good = ("see " + DOCS + "/" + "methods" + _MD + " and " + DOCS + "/" + "emotion-cues" + _MD
            + ", the " + "sertools.methods package, my_" + "methods" + _MD + "-like names")
    assert not problems({"sertools/x.py": good}, docs_present() | {"methods" + _MD, "emotion-cues" + _MD})
    # inside docs/, pages link to each other by relative name
    assert not problems({DOCS + "/a" + _MD: "[m](" + "methods" + _MD + "#ramp-ups)"},
                        {"methods" + _MD})
    assert problems({DOCS + "/a" + _MD: "[m](" + "missing" + _MD + ")"}, {"methods" + _MD})
