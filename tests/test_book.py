"""The book builder (``python -m sertools.book``, ``make book``) on two tiny lessons of its own.

The real lessons are executed by test_notebooks.py already (minutes); here two
small notebooks in tmp_path stand in for notebooks/: one draws a figure and
plays a sound, one raises. The build must write both pages, embed the figure
and the sound as data, list both lessons with their titles and times in
index.html, report the failing one and exit with status 1, and leave the
source notebooks untouched.
"""
import json
import os
import subprocess
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbconvert")


def _lessons(folder):
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    good = nbformat.v4.new_notebook(cells=[
        code("import os; PRESET = os.environ['SERTOOLS_PRESET']; print('preset', PRESET)"),
        md("# 00 · A figure and a sound\n\nSome text."),
        code("import numpy as np, matplotlib.pyplot as plt\nfrom IPython.display import Audio, display\n"
             "plt.plot([0, 1], [1, 0]); plt.show()\n"
             "display(Audio(np.sin(np.arange(1600) / 5.0), rate=16000))"),
    ])
    bad = nbformat.v4.new_notebook(cells=[
        md("# 01 · This lesson fails"),
        code("x = 1"),
        code("raise RuntimeError('lesson broke on purpose')"),
        code("print('never')"),
    ])
    for nb in (good, bad):
        nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    folder.mkdir()
    nbformat.write(good, folder / "00_good.ipynb")
    nbformat.write(bad, folder / "01_bad.ipynb")
    (folder / "app").mkdir()  # subfolders (the explorer page) are not lessons
    nbformat.write(bad, folder / "app" / "not_a_lesson.ipynb")
    return {p.name: p.read_bytes() for p in folder.glob("*.ipynb")}


def test_book_builds_pages_index_and_reports_failures(tmp_path):
    src = tmp_path / "lessons"
    stored = _lessons(src)
    out = tmp_path / "build" / "book"
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    r = subprocess.run([sys.executable, "-m", "sertools.book", "--preset", "quick", "--out", str(out),
                        "--notebooks", str(src), "--quiet"], capture_output=True, text=True, env=env, timeout=300)
    report = r.stdout + r.stderr
    assert r.returncode == 1, report
    assert "01_bad" in r.stderr and "lesson broke on purpose" in report, report
    assert "1 of 2 lessons built" in r.stdout, report

    page = (out / "00_good.html").read_text()
    assert "data:image/png;base64," in page, "the figure is not embedded"
    assert "data:audio/wav;base64," in page, "the sound is not embedded"
    assert "preset quick" in page
    bad = (out / "01_bad.html").read_text()
    assert "lesson broke on purpose" in bad  # the error is on the page
    assert not (out / "not_a_lesson.html").exists()

    index = (out / "index.html").read_text()
    assert "00 · A figure and a sound" in index and "01 · This lesson fails" in index
    assert 'href="00_good.html"' in index and "failed (cell 2)" in index

    times = json.loads((tmp_path / "build" / "lesson-times.json").read_text())
    assert set(times["quick"]) == {"00_good", "01_bad"}
    assert times["quick"]["00_good"]["status"] == "ok" and times["quick"]["01_bad"]["status"] == "failed"
    assert times["quick"]["00_good"]["seconds"] > 0
    assert "not measured yet" in index  # no default-preset times yet

    assert {p.name: p.read_bytes() for p in src.glob("*.ipynb")} == stored, "the source notebooks were written"


def test_book_rejects_unknown_lessons_and_presets(tmp_path):
    src = tmp_path / "lessons"
    _lessons(src)
    for args, msg in ((["--only", "07"], "no lesson"), (["--preset", "huge"], "not a preset")):
        r = subprocess.run([sys.executable, "-m", "sertools.book", "--out", str(tmp_path / "b"), "--notebooks",
                            str(src), "--quiet", *args], capture_output=True, text=True, timeout=120)
        assert r.returncode != 0 and msg in r.stderr, r.stderr
