"""The lessons as a static web site (``make book``): execute, then export to HTML.

    python -m sertools.book [--preset quick] [--out build/book] [--only 00,10] [--notebooks DIR]

Every lesson ``notebooks/NN_*.ipynb`` is executed top to bottom in a fresh
``python3`` kernel of this interpreter (nbclient, working folder
notebooks/), as ``tests/test_notebooks.py`` runs it, and written, executed,
to ``OUT/NN_name.ipynb`` and ``OUT/NN_name.html`` (nbconvert's HTML
exporter: figures are PNGs embedded as base64, and ``IPython.display.Audio``
is embedded as a base64 WAV data URL, so the pages need no other files).
The notebooks in notebooks/ are never written.

The formulas of the Markdown cells (``$...$``, ``$$...$$``, ``\\(...\\)``,
``\\[...\\]``, found by nbconvert's own Markdown parser, so not in code) are
converted to MathML at build time with latex2mathml, which browsers draw
themselves: the pages load no MathJax and show their maths offline. TeX that
latex2mathml cannot convert is left on the page as code and reported.
(nbconvert's lab template still names require.js, and for pages with widget
state the widgets' HTML manager, on their CDNs: offline those widgets stay
empty, while the text, figures, sounds and maths need neither.)
``--index-only`` exports the pages again from the executed notebooks in OUT
(no execution), so a site built before this conversion gets it too.

``OUT/index.html`` lists the lessons with their titles (the first heading of
each notebook) and their measured execution times, on the quick preset and on
the default one where measured. The times are kept in ``lesson-times.json``
beside OUT (e.g. build/lesson-times.json): one entry per preset and lesson,
with the date, the thread setting (``OMP_NUM_THREADS``), the CPU count and
the load average, updated by each build (a build on quick keeps the default
times measured earlier, and the other way round).

Data: the normal cache (``SERTOOLS_CACHE`` or data/cache/), so the corpus,
features and face teacher are made once and shared with the lessons and the
CLI. Runs: as in the tests (tests/conftest.py), a temporary
``SERTOOLS_RESULTS`` for the whole build unless one is set, so each lesson
trains what it trains (the build's times are the times of a fresh run
store, not of runs stored earlier), while later lessons reuse the runs of
earlier ones as they do in class.

A lesson that fails is reported (the cell and the error), its page is still
written with the error in it, the other lessons are built, and the exit
status is 1.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import platform
import re
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NB_DIR = REPO / "notebooks"
CELL_TIMEOUT = 1800  # seconds per cell (the default preset trains for minutes in some cells)


def lessons(nb_dir: Path = NB_DIR, only: list[str] | None = None) -> list[Path]:
    """The lesson notebooks (``*.ipynb`` directly in ``nb_dir``, not in subfolders), by name.

    only : keep the lessons whose name starts with one of these (``["00", "10"]``)
    """
    found = sorted(nb_dir.glob("*.ipynb"))
    if only:
        found = [p for p in found if any(p.name.startswith(o) for o in only)]
        missing = [o for o in only if not any(p.name.startswith(o) for p in found)]
        if missing:
            raise SystemExit(f"--only {','.join(missing)}: no lesson in {nb_dir} starts with that; "
                             f"lessons: {', '.join(p.stem for p in sorted(nb_dir.glob('*.ipynb')))}")
    return found


def title(nb) -> str:
    """The first Markdown heading of the notebook, without the #'s."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if m := re.match(r"\s*#+\s+(.*\S)", line):
                    return m.group(1)
    return ""


def kernel_env(root: Path, preset: str) -> dict:
    """A ``python3`` kernelspec for this interpreter first on JUPYTER_PATH (as the tests
    make one: a ``python3`` kernelspec in the user's Jupyter folder must not win), and
    the environment of the kernels."""
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (sertools book)", "language": "python"}))
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(root)] + [p for p in [os.environ.get("JUPYTER_PATH")] if p])
    env = dict(os.environ, SERTOOLS_PRESET=preset)
    env.pop("MPLBACKEND", None)  # the kernel draws as in Jupyter (inline backend)
    return env


def execute(path: Path, env: dict, timeout: int = CELL_TIMEOUT):
    """(executed notebook, seconds, error or None): ``path`` run in a fresh kernel, cwd its folder."""
    import nbclient
    import nbformat
    from nbclient.exceptions import CellExecutionError
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    error = None
    t0 = time.perf_counter()
    try:
        client.execute(env=env)
    except CellExecutionError as e:
        error = e
    except Exception as e:  # a dead kernel, a timeout: reported like a failing cell
        error = e
    return nb, time.perf_counter() - t0, error


def failing_cell(nb) -> int | None:
    """Index of the first code cell whose outputs hold an error, or None."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return i
    return None


# latex2mathml draws these delimiters after \big, \Big, ... as the TeX command itself
_DELIMITERS = {r"\|": "&#x02016;", r"\Vert": "&#x02016;", r"\lVert": "&#x02016;", r"\rVert": "&#x02016;",
               r"\vert": "|", r"\lvert": "|", r"\rvert": "|", r"\{": "{", r"\}": "}",
               r"\langle": "&#x027E8;", r"\rangle": "&#x027E9;"}


def tex_to_mathml(tex: str, display: bool = False) -> str | None:
    """``tex`` (the maths between the dollars) as a MathML ``<math>`` element, which browsers draw
    without a script or a network; None when latex2mathml cannot convert it, or leaves a TeX command
    in its output (it does that for commands it does not know instead of raising)."""
    from latex2mathml.converter import convert
    src = re.sub(r"\\arg(?![A-Za-z])", r"\\operatorname{arg}", tex.strip())  # \arg is not in latex2mathml
    try:
        out = convert(src, display="block" if display else "inline")
    except Exception:
        return None
    out = re.sub(r"(<mo\b[^>]*>)(\\[A-Za-z]+|\\[|{}])(</mo>)",
                 lambda m: m[1] + _DELIMITERS.get(m[2], m[2]) + m[3], out)
    out = out.replace('width="negativethinmathspace"', 'width="-0.1667em"')  # \!
    # HTML puts <math> in the MathML namespace itself; with the xmlns, nbconvert's heading anchors
    # (ElementTree) rewrite a heading's maths as <ns0:math>, which no browser draws
    out = out.replace(' xmlns="http://www.w3.org/1998/Math/MathML"', "")
    return None if re.search(r">[^<]*\\", out) else out


def _exporter(unconverted: list[str]):
    """nbconvert's HTMLExporter (lab template) with the Markdown maths as MathML and no MathJax:
    ``$...$``, ``\\(...\\)``, ``$$...$$``, ``\\[...\\]`` and ``\\begin{env}...\\end{env}``, as nbconvert's
    own Markdown parser finds them (so never in code spans or code blocks, and not ``\\$``). TeX that
    does not convert is shown as it is, in a ``<code class="tex">``, and appended to ``unconverted``."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
    try:
        from jinja2 import pass_context
    except ImportError:  # jinja2 < 3
        from jinja2 import contextfilter as pass_context

    class Renderer(IPythonRenderer):
        def _math(self, tex: str, display: bool, left: str, right: str) -> str:
            out = tex_to_mathml(tex, display)
            if out is None:
                unconverted.append(left + tex + right)
                return f'<code class="tex">{html.escape(left + tex + right)}</code>'
            return out

        def block_math(self, body: str) -> str:
            return self._math(body, True, "$$", "$$")

        def inline_math(self, body: str) -> str:
            return self._math(body, False, "$", "$")

        def latex_environment(self, name: str, body: str) -> str:
            return self._math(f"\\begin{{{name}}}{body}\\end{{{name}}}", True, "", "")

    class BookExporter(HTMLExporter):
        @pass_context
        def markdown2html(self, context, source):  # HTMLExporter.markdown2html with the renderer above
            cell = context.get("cell", {})
            renderer = Renderer(escape=False, attachments=cell.get("attachments", {}), embed_images=self.embed_images,
                                path=context.get("resources", {}).get("metadata", {}).get("path", ""),
                                anchor_link_text=self.anchor_link_text, exclude_anchor_links=self.exclude_anchor_links,
                                **self.lexer_options)
            return MarkdownWithMath(renderer=renderer).render(source)

    # the lab template without its MathJax block (a <script> from MathJax's CDN and its configuration)
    page = ("{%- extends 'index.html.j2' -%}\n"
            "{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}\n")
    return BookExporter(template_file="sertools_book.html.j2", mathjax_url="",
                        extra_loaders=[DictLoader({"sertools_book.html.j2": page})])


def to_html(nb, unconverted: list[str] | None = None) -> str:
    """The notebook as one self-contained HTML page (nbconvert's HTMLExporter), its maths as MathML.

    unconverted : a list that gets the TeX that did not convert (shown as code on the page)
    """
    body, _ = _exporter([] if unconverted is None else unconverted).from_notebook_node(nb)
    return body


def _write_page(nb, path: Path, say) -> None:
    """Write ``nb``'s page to ``path``, and ``say`` which TeX it left unconverted, if any."""
    unconverted = []
    path.write_text(to_html(nb, unconverted), encoding="utf-8")
    if unconverted:
        say(f"! {path.stem}: TeX not converted to MathML, shown as code: " + "; ".join(unconverted))


def load_times(path: Path) -> dict:
    """The times file as {preset: {lesson: entry}}; {} when it is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def fmt_seconds(s) -> str:
    """Seconds for the index: "42 s" below 90, else "2.5 min"; None is "not measured yet"."""
    if s is None:
        return "not measured yet"
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.1f} min"


def index_html(entries: list[dict], times: dict, preset: str) -> str:
    """The site's index.html: one row per lesson (link, title, failed cell if any)
    with its measured times on the quick and default presets from ``times``."""
    rows = []
    for e in entries:
        t = {p: times.get(p, {}).get(e["stem"], {}) for p in ("quick", "default")}
        cell = lambda p: (fmt_seconds(t[p].get("seconds")) + (" (failed)" if t[p].get("status") == "failed" else "")  # noqa: E731
                          if t[p] else "not measured yet")
        status = "" if e["status"] == "ok" else f' <strong class="failed">failed (cell {e["cell"]})</strong>'
        rows.append(f'<tr><td><a href="{html.escape(e["stem"])}.html">{html.escape(e["stem"][:2])}</a></td>'
                    f'<td><a href="{html.escape(e["stem"])}.html">{html.escape(e["title"])}</a>{status}</td>'
                    f'<td>{cell("quick")}</td><td>{cell("default")}</td></tr>')
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sertools lessons</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse}}td,th{{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}}
.failed{{color:#b00}}</style></head><body>
<h1>sertools: the lessons</h1>
<p>Speech emotion recognition with scarce labels. These pages are the lessons of <code>notebooks/</code>, executed on
the <strong>{html.escape(preset)}</strong> preset on {when} (<code>python -m sertools.book</code>); to change and run
them, open them in JupyterLab (<code>make lab</code>), and for the explorers without code, <code>make app</code>.
The explorers (sliders and buttons) need a running kernel: here they show at most what they drew when executed.</p>
<table><thead><tr><th></th><th>lesson</th><th>time, quick preset</th><th>time, default preset</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<p>Times: wall time to execute the whole notebook in a fresh kernel, with the corpus and features already cached,
as measured by the builder (<code>lesson-times.json</code> has the date, the thread setting and the machine's load).</p>
</body></html>
"""


def build(preset: str = "quick", out: Path = REPO / "build" / "book", only: list[str] | None = None,
          nb_dir: Path = NB_DIR, times_path: Path | None = None, timeout: int = CELL_TIMEOUT,
          progress: bool = True, index_only: bool = False) -> list[dict]:
    """Execute and export the lessons; returns one entry per lesson (stem, title, status, seconds, cell, error)."""
    import nbformat
    from tqdm.auto import tqdm

    from .config import PRESETS
    if preset not in PRESETS:
        raise SystemExit(f"--preset {preset!r} is not a preset; choose one of {', '.join(PRESETS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    times_path = Path(times_path) if times_path else out.parent / "lesson-times.json"
    paths = [] if index_only else lessons(Path(nb_dir), only)
    os.environ.setdefault("SERTOOLS_RESULTS", tempfile.mkdtemp(prefix="sertools-book-results-"))
    entries = []
    with tempfile.TemporaryDirectory(prefix="sertools-book-kernel-") as kroot:
        env = kernel_env(Path(kroot), preset)
        bar = tqdm(paths, desc=f"book ({preset})", unit="lesson", disable=not progress)
        for path in bar:
            bar.set_postfix_str(path.stem)
            load = os.getloadavg()[0]
            nb, seconds, error = execute(path, env, timeout)
            nbformat.write(nb, out / path.name)
            _write_page(nb, out / f"{path.stem}.html", bar.write)
            entry = {"stem": path.stem, "title": title(nb), "status": "ok" if error is None else "failed",
                     "seconds": round(seconds, 1), "cell": failing_cell(nb),
                     "error": None if error is None else f"{type(error).__name__}: "
                                                         f"{getattr(error, 'ename', '')} {getattr(error, 'evalue', error)}"}
            entries.append(entry)
            bar.write(f"{path.stem}: {'ok' if error is None else 'FAILED'} in {seconds:.1f} s")
            if error is not None:
                report = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", getattr(error, "traceback", None) or str(error))
                bar.write(f"! {path.stem}: cell {entry['cell']} raised {entry['error']}\n{report[-3000:]}")
            times = load_times(times_path)  # re-read: builds of other presets may have written meanwhile
            times.setdefault(preset, {})[path.stem] = {
                "seconds": entry["seconds"], "status": entry["status"],
                "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
                "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "cpu_count": os.cpu_count(),
                "machine": platform.machine(), "load_before": round(load, 2),
                "earlier_in_build": [e["stem"] for e in entries[:-1]],  # their runs were reused
                "load_after": round(os.getloadavg()[0], 2)}
            times_path.parent.mkdir(parents=True, exist_ok=True)
            times_path.write_text(json.dumps(times, indent=1, sort_keys=True))
    # the index lists every lesson built so far in OUT, not only this run's; --index-only also
    # exports their pages again from the executed notebooks (pages of older builds used MathJax)
    built = {e["stem"]: e for e in entries}
    for p in sorted(out.glob("*.ipynb")):
        if p.stem not in built and (out / f"{p.stem}.html").exists():
            nb = nbformat.read(p, as_version=4)
            if index_only:
                _write_page(nb, out / f"{p.stem}.html", print if progress else lambda _: None)
            i = failing_cell(nb)
            built[p.stem] = {"stem": p.stem, "title": title(nb), "status": "ok" if i is None else "failed", "cell": i}
    (out / "index.html").write_text(index_html([built[k] for k in sorted(built)], load_times(times_path), preset),
                                    encoding="utf-8")
    return entries


def main(argv=None) -> int:
    """``python -m sertools.book``: parse the options, build, and return 1 when a lesson failed."""
    ap = argparse.ArgumentParser(prog="python -m sertools.book", description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="quick", help="quick (default), default or full")
    ap.add_argument("--out", default=str(REPO / "build" / "book"), help="the site's folder (default build/book)")
    ap.add_argument("--only", default="", help="lessons whose names start with these, comma-separated (e.g. 00,10)")
    ap.add_argument("--notebooks", default=str(NB_DIR), help="the folder of the lessons (default notebooks/)")
    ap.add_argument("--times", default=None, help="the times file (default: lesson-times.json beside --out)")
    ap.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    ap.add_argument("--index-only", action="store_true",
                    help="execute nothing: export the pages again from the executed notebooks in --out "
                         "and rewrite index.html from them and the times file")
    a = ap.parse_args(argv)
    only = [o.strip() for o in a.only.split(",") if o.strip()]
    entries = build(a.preset, Path(a.out), only, Path(a.notebooks), a.times, a.timeout, progress=not a.quiet,
                    index_only=a.index_only)
    failed = [e for e in entries if e["status"] != "ok"]
    print(f"{len(entries) - len(failed)} of {len(entries)} lessons built; site: {Path(a.out) / 'index.html'}")
    if failed:
        print("FAILED: " + "; ".join(f"{e['stem']} (cell {e['cell']}: {e['error']})" for e in failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
