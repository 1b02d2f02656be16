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


# inline and display maths in all four delimiters, constructs latex2mathml needs help with (\arg,
# \big\|), a heading with maths, and dollars that are not maths: in a code span, in a code block, escaped.
# In Markdown \( is an escaped "(", so LaTeX's delimiters are written \\( \\) and \\[ \\] (as in Jupyter)
MATHS = r"""# Maths $\alpha$ offline

The loss $\mathcal{L} = \frac{1}{N}\sum_i \ell_i$ and \\(\hat y = \arg\max_c p_c\\), and on its own line

$$x_m[n] = x[n + mH]\; w[n], \qquad w[n] = \tfrac12 - \tfrac12\cos\frac{2\pi n}{N_w - 1} \quad\text{(Hann)}$$

\\[\big\| p - q \big\|^2\\]

Not maths: `echo $HOME $PATH`, a price of \$5, and

```
$ python -m sertools.bench --only accuracy
```
"""


def _maths_notebook():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(MATHS)])
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    return nb


def _check_mathml_page(page: str):
    import re
    assert page.count("<math") == 5 and page.count('<math display="block"') == 2, page
    assert "<ns0:math" not in page  # the heading's anchor must keep it a MathML element
    text = re.sub(r"<(style|script)\b.*?</\1>", "", page, flags=re.S)
    for raw in ("$\\", "$$", "\\(", "\\[", "\\mathcal", "\\frac", "\\arg", "\\|", 'class="tex"'):
        assert raw not in text, f"raw TeX {raw!r} on the page"
    assert "mathjax" not in page.lower(), "the page still loads or configures MathJax"
    assert not re.search(r"<script[^>]*\bsrc=[\"']https?://[^\"']*mathjax", page, re.I)
    assert "$HOME $PATH" in text and "$ python -m sertools.bench" in text and "$5" in text, "a dollar was lost"


def test_book_page_maths_are_mathml_without_mathjax():
    from sertools.book import to_html
    unconverted = []
    _check_mathml_page(to_html(_maths_notebook(), unconverted))
    assert unconverted == []


def test_tex_that_does_not_convert_stays_readable():
    from sertools.book import tex_to_mathml, to_html
    assert tex_to_mathml(r"\notacommand x") is None  # latex2mathml would keep "\notacommand" in a <mi>
    unconverted = []
    page = to_html(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(r"see $\notacommand x$ here")]),
                   unconverted)
    assert unconverted == [r"$\notacommand x$"]
    assert r'<code class="tex">$\notacommand x$</code>' in page


def test_every_formula_of_the_lessons_converts():
    """The Markdown of the real lessons (not executed): every formula becomes MathML."""
    from sertools.book import NB_DIR, lessons, to_html
    for path in lessons(NB_DIR):
        nb = nbformat.read(path, as_version=4)
        nb.cells = [c for c in nb.cells if c.cell_type == "markdown"]
        unconverted = []
        page = to_html(nb, unconverted)
        assert unconverted == [], f"{path.name}: not converted: {unconverted}"
        assert "mathjax" not in page.lower()


def test_index_only_exports_the_pages_again_with_mathml(tmp_path):
    """--index-only executes nothing, and rewrites a page an older build made with MathJax."""
    from nbconvert import HTMLExporter

    from sertools.book import build
    out = tmp_path / "book"
    out.mkdir()
    nb = _maths_notebook()
    nbformat.write(nb, out / "00_maths.ipynb")
    (out / "00_maths.html").write_text(HTMLExporter().from_notebook_node(nb)[0])  # the old page
    assert "mathjax" in (out / "00_maths.html").read_text().lower()
    assert build("quick", out, index_only=True, progress=False) == []
    _check_mathml_page((out / "00_maths.html").read_text())
    assert "Maths" in (out / "index.html").read_text()
