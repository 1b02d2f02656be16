"""Every lesson in notebooks/ runs top to bottom, headless, as CI runs it.

Each notebook is executed with nbclient in a fresh ``python3`` kernel, with
notebooks/ as its working folder and the environment of this test session
(``SERTOOLS_PRESET=quick`` and temporary ``SERTOOLS_CACHE`` and
``SERTOOLS_RESULTS`` from conftest.py). A cell that raises fails the test
with the cell's source and the error. Each notebook's execution time is
printed (``pytest -s``) and recorded as the ``seconds`` property (JUnit XML).

The ``python3`` kernel must be this interpreter (the project's venv), not
another ``python3`` kernelspec that happens to be installed (one in the
user's Jupyter folder is searched before the venv's own): a kernelspec in a
temporary JUPYTER_PATH, searched before every other kernel folder, points
at ``sys.executable``; ``test_kernel_is_this_python`` checks it.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
from nbclient.exceptions import CellExecutionError  # noqa: E402

NB_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(p.name for p in NB_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 600  # seconds per cell
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@pytest.fixture(scope="session")
def kernel_env(tmp_path_factory):
    """A ``python3`` kernelspec for this interpreter, first on JUPYTER_PATH,
    and the environment the kernel starts with."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (sertools tests)", "language": "python"}))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", os.pathsep.join([str(root)] + [p for p in [os.environ.get("JUPYTER_PATH")] if p]))
        env = dict(os.environ)
        # conftest sets MPLBACKEND=Agg for this process; the kernel should draw as in
        # Jupyter (ipykernel picks the inline backend when MPLBACKEND is unset)
        env.pop("MPLBACKEND", None)
        yield env


def execute(nb, env: dict):
    """Run ``nb`` in place in a fresh python3 kernel with cwd notebooks/."""
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(NB_DIR)}})
    client.execute(env=env)
    return nb


def failing_cell(nb):
    """(index, cell) of the first code cell with an error output, else (None, None)."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return i, cell
    return None, None


def test_kernel_is_this_python(kernel_env):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, sys; print(sys.executable); print(sys.prefix); print(os.getcwd())")])
    execute(nb, kernel_env)
    executable, prefix, cwd = nb.cells[0].outputs[0]["text"].split("\n")[:3]
    assert (executable, prefix) == (sys.executable, sys.prefix), \
        f"the python3 kernel runs {executable} (prefix {prefix}), not this interpreter {sys.executable}"
    assert Path(cwd).resolve() == NB_DIR


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, kernel_env, record_property):
    nb = nbformat.read(NB_DIR / name, as_version=4)
    error = None
    t0 = time.perf_counter()
    try:
        execute(nb, kernel_env)
    except CellExecutionError as e:
        error = e  # reported below, outside the except block, so pytest shows only the clean report
    finally:
        seconds = time.perf_counter() - t0
        record_property("seconds", round(seconds, 1))
        print(f"\n{name}: executed in {seconds:.1f} s (preset {os.environ.get('SERTOOLS_PRESET')})")
    if error is not None:
        i, cell = failing_cell(nb)
        report = ANSI.sub("", error.traceback or str(error))  # nbclient's report: the cell's source, then the traceback
        if cell is not None and cell.source not in report:
            report = f"--- source ---\n{cell.source}\n\n{report}"
        pytest.fail(f"{name}: {'a cell' if i is None else f'cell {i}'} raised {error.ename}: {error.evalue}\n\n{report}",
                    pytrace=False)


# A result figure typed into prose: a percentage in the same sentence as a score word. Outcome sentences
# are printed by sertools.reports from the lesson's own runs instead (code spans and maths are skipped).
PERCENT = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?\s?%")
SCORE_WORD = re.compile(r"\b(UA|WA|F1|accuracy|accurate|score[sd]?)\b", re.I)


def typed_results(markdown: str) -> list[str]:
    """The sentences of ``markdown`` that state a percentage beside a score word."""
    text = re.sub(r"\$[^$]*\$", "", re.sub(r"`[^`]*`", "", markdown))
    sentences = (s for para in re.split(r"\n\s*\n", text)
                 for s in re.split(r"(?<=[.!?;:])\s+|\n[-*] |\n\d+\. |\n\|", para))
    return [" ".join(s.split()) for s in sentences if PERCENT.search(s) and SCORE_WORD.search(s)]


def test_the_detector_finds_a_typed_ua_figure():
    assert typed_results("Intro.\n\nFixMatch scores 45.3 % UA on this seed, close to supervised.") == \
        ["FixMatch scores 45.3 % UA on this seed, close to supervised."]
    assert typed_results("The threshold is 95 %; the mask rate starts below 100 %.") == []
    assert typed_results("Print `f'{ua:.1f} % UA'` here, or $p < 5\\%$ UA.") == []


@pytest.mark.parametrize("name", NOTEBOOKS + ["app/explorers.ipynb"])
def test_no_markdown_cell_types_a_result(name):
    nb = nbformat.read(NB_DIR / name, as_version=4)
    typed = [(i, s) for i, c in enumerate(nb.cells) if c.cell_type == "markdown" for s in typed_results(c.source)]
    assert not typed, f"{name}: results typed into markdown (print them from sertools.reports instead): {typed}"
