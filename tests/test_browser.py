"""What a person sees in a real browser: the explorer page (Voila) and a lesson in JupyterLab.

Both servers run on a free port of 127.0.0.1 with this session's environment
(quick preset, the temporary SERTOOLS_CACHE and SERTOOLS_RESULTS of
conftest.py) and a ``python3`` kernelspec for this interpreter first on
JUPYTER_PATH (as in test_notebooks.py), and are killed at teardown. The
browser is the system's headless Chromium, driven through the system's
chromedriver (Debian: ``apt-get install chromium chromium-driver``); nothing
is downloaded. Without them the tests skip, except under CI (``CI`` set),
where that is a failure. Screenshots of what the test saw go to its tmp_path.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "notebooks" / "app" / "explorers.ipynb"
LESSON = REPO / "notebooks" / "01_spectrograms.ipynb"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
STDERR = '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]'


def _need(ok: bool, why: str):
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{why} (CI is set, so the browser tests must run)", pytrace=False)
        pytest.skip(why)


@pytest.fixture(scope="module")
def webdriver_mod():
    _need(CHROMIUM.exists() and CHROMEDRIVER.exists(),
          f"{CHROMIUM} or {CHROMEDRIVER} is missing: apt-get install chromium chromium-driver")
    try:
        from selenium import webdriver
    except ImportError:
        _need(False, "selenium is not installed (pip install -e '.[dev]')")
    return webdriver


@pytest.fixture
def driver(webdriver_mod, tmp_path):
    from selenium.webdriver.chrome.service import Service
    opts = webdriver_mod.ChromeOptions()
    opts.binary_location = str(CHROMIUM)  # with both paths given, Selenium Manager never runs (no download)
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,3000",
              f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        opts.add_argument(a)
    d = webdriver_mod.Chrome(service=Service(str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log")),
                             options=opts)
    d.set_page_load_timeout(180)
    try:
        yield d
    finally:
        d.quit()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server_env(tmp_path):
    """This session's environment, a python3 kernelspec for sys.executable first on
    JUPYTER_PATH, and Jupyter's config and runtime folders in tmp_path."""
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (sertools tests)", "language": "python"}))
    env = dict(os.environ, JUPYTER_PATH=os.pathsep.join([str(tmp_path / "jupyter")]
                                                        + [p for p in [os.environ.get("JUPYTER_PATH")] if p]),
               JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"), SERTOOLS_PRESET="quick")
    env.pop("MPLBACKEND", None)  # kernels draw as in Jupyter
    return env


class Server:
    """A server process in its own process group, killed (group and all) by stop()."""

    def __init__(self, cmd, env, log: Path, port: int, cwd=REPO):
        self.log = log
        self.port = port
        self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_listening(self, timeout: float = 90):
        t_end = time.monotonic() + timeout
        while time.monotonic() < t_end:
            if self.proc.poll() is not None:
                pytest.fail(f"the server exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.3)
        pytest.fail(f"the server did not listen on 127.0.0.1:{self.port} in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self):
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.proc.pid, sig)
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
                except ProcessLookupError:
                    break
        # kernels are started in their own process groups: end those the server left behind
        for line in subprocess.run(["ps", "-eo", "pid,ppid,args"], capture_output=True, text=True).stdout.splitlines()[1:]:
            pid, ppid, args = line.split(None, 2)
            if "ipykernel_launcher" in args and str(self.log.parent) in args:
                os.kill(int(pid), signal.SIGKILL)


def _wait(d, cond, timeout, what, shot: Path):
    """Wait for ``cond``; an element the page replaced while it was read (a
    redrawn figure) is looked up again at the next poll, not an error."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait
    try:
        return WebDriverWait(d, timeout, poll_frequency=0.5,
                             ignored_exceptions=(StaleElementReferenceException,)).until(cond)
    except TimeoutException:
        d.save_screenshot(str(shot))
        what = what() if callable(what) else what
        pytest.fail(f"timed out after {timeout} s waiting for {what}; screenshot {shot}", pytrace=False)


def _no_errors(d, where: str):
    from selenium.webdriver.common.by import By
    tracebacks = [e.text for e in d.find_elements(By.CSS_SELECTOR, STDERR) if "Traceback" in e.text]
    tracebacks += [e.text for e in d.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output[data-mime-type="
                                                                    "'application/vnd.jupyter.stderr']")
                   if "Traceback" in e.text]
    assert not tracebacks, f"{where}: error output on the page:\n" + "\n---\n".join(tracebacks)[:4000]
    body = d.find_element(By.TAG_NAME, "body").text
    for bad in ("There was an error when executing cell", "Traceback (most recent call last)"):
        assert bad not in body, f"{where}: the page says {bad!r}:\n{body[:3000]}"


def _images(scope, tries: int = 5):
    """The sources of the figures in ``scope``, read again if the page redrew one meanwhile."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    for i in range(tries):
        try:
            return [img.get_attribute("src") for img in scope.find_elements(By.CSS_SELECTOR, ".widget-output img")]
        except StaleElementReferenceException:
            if i == tries - 1:
                raise
            time.sleep(0.5)


def test_explorer_page(driver, server_env, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    port = free_port()
    # in tmp_path, so stop() finds the kernels by their connection files' folder
    (tmp_path / "runtime").mkdir(exist_ok=True)
    srv = Server([sys.executable, "-m", "voila", str(APP), "--no-browser", "--strip_sources=True",
                  f"--port={port}", "--Voila.ip=127.0.0.1", "--show_tracebacks=True",
                  f"--Voila.connection_dir_root={tmp_path / 'runtime'}"], server_env, tmp_path / "voila.log", port)
    try:
        srv.wait_listening()
        t0 = time.perf_counter()
        driver.get(f"http://127.0.0.1:{port}/")
        # the five explorers: 18 sliders, a Generate and three Run buttons, the first figures
        _wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".widget-slider")) >= 18
              and len(d.find_elements(By.XPATH, "//button[normalize-space()='Run']")) == 3
              and len(_images(d)) >= 3, 150, "the explorers and their first figures", tmp_path / "voila-timeout.png")
        first_render = time.perf_counter() - t0
        print(f"\nexplorer page: first render in {first_render:.1f} s")
        driver.save_screenshot(str(tmp_path / "voila-first-render.png"))
        _no_errors(driver, "explorer page")
        page_text = driver.find_element(By.TAG_NAME, "body").text
        assert "1 · Clip generator" in page_text and "5 · Comparison explorer" in page_text
        assert "widgets.clip_generator()" not in driver.page_source, "the page shows code"

        # the clip generator: move the seed slider, press Generate, a new figure comes
        gen = driver.find_element(By.XPATH, "//button[normalize-space()='Generate']")
        box = gen.find_element(By.XPATH, "./ancestor::div[contains(@class,'widget-vbox')][1]")
        before = _images(box)
        assert before, "the clip generator shows no figure"
        seed = box.find_elements(By.CSS_SELECTOR, ".widget-slider")[-1]
        readout = seed.find_element(By.CSS_SELECTOR, ".widget-readout")
        assert readout.text.strip() == "0"
        handle = seed.find_element(By.CSS_SELECTOR, ".noUi-handle")
        handle.click()
        for _ in range(3):
            handle.send_keys(Keys.ARROW_RIGHT)
        _wait(driver, lambda d: readout.text.strip() == "3", 20, "the seed slider to move to 3",
              tmp_path / "voila-slider.png")
        gen.click()
        _wait(driver, lambda d: (now := _images(box)) and now[0] != before[0], 60,
              "a new clip figure after Generate", tmp_path / "voila-generate.png")

        # the spectrogram explorer follows its sliders live: a wider window, a new picture
        spec = driver.find_element(By.XPATH, "//*[contains(@class,'widget-label') and normalize-space()='window (ms)']"
                                             "/ancestor::div[contains(@class,'widget-vbox')][1]")
        before = _images(spec)
        handle = spec.find_element(By.CSS_SELECTOR, ".noUi-handle")
        handle.click()
        for _ in range(5):
            handle.send_keys(Keys.ARROW_RIGHT)
        _wait(driver, lambda d: (now := _images(spec)) and now[0] != before[0], 60,
              "a new spectrogram after moving the window slider", tmp_path / "voila-spectrogram.png")
        driver.save_screenshot(str(tmp_path / "voila-after-controls.png"))
        _no_errors(driver, "explorer page after Generate and the window slider")
    finally:
        srv.stop()


def test_lesson_in_jupyterlab(driver, server_env, tmp_path):
    """Lesson 01 opened in JupyterLab and run there (all cells): its explorer renders, no error.

    The lesson is copied into tmp_path/notebooks/, JupyterLab's root, so running it
    never writes the stored notebook."""
    import shutil
    from selenium.webdriver.common.by import By
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(LESSON, root / LESSON.name)
    port, token = free_port(), secrets.token_hex(16)
    srv = Server([sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.token={token}",
                  "--ServerApp.ip=127.0.0.1", f"--port={port}", f"--ServerApp.root_dir={root}",
                  "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False"]
                 + (["--allow-root"] if os.geteuid() == 0 else []),  # CI runs as root
                 server_env, tmp_path / "lab.log", port)
    # the notebook panel, found among the main area's widgets (currentWidget follows the focus)
    nb = "const w = Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.sessionContext && w.content);"
    try:
        srv.wait_listening()
        t0 = time.perf_counter()
        driver.get(f"http://127.0.0.1:{port}/lab/tree/{LESSON.name}?token={token}")
        # the notebook is open and its kernel idle
        state = ("const a = window.jupyterapp; if (!a) return 'no window.jupyterapp';"
                 "const w = Array.from(a.shell.widgets('main')).find(w => w.sessionContext && w.content);"
                 "if (!w) return 'no notebook open';"
                 "const s = w.sessionContext.session; if (!s || !s.kernel) return 'no kernel';"
                 "return s.kernel.status + ' ' + (w.content && w.content.widgets ? w.content.widgets.length : 0);")
        seen = []
        _wait(driver, lambda d: seen.append(d.execute_script(state)) or seen[-1].startswith("idle ")
              and int(seen[-1].split()[1]) > 20,
              120, lambda: f"the lesson open in JupyterLab with an idle kernel (last seen: {seen[-1:]})",
              tmp_path / "lab-open.png")
        driver.execute_script(nb + "window.jupyterapp.shell.activateById(w.id);"
                              "window.jupyterapp.commands.execute('notebook:run-all-cells');")  # not awaited
        # every code cell has run (an execution count), the kernel is idle again
        done = (nb +
                "const cells = w.content.widgets.filter(c => c.model.type === 'code');"
                "return w.sessionContext.session.kernel.status === 'idle'"
                " && cells.every(c => c.model.executionCount !== null);")
        _wait(driver, lambda d: d.execute_script(done), 300, "every cell of the lesson to run",
              tmp_path / "lab-run-timeout.png")
        errors = driver.execute_script(
            nb + "const out = [];"
            "w.content.widgets.forEach((c, i) => { if (c.model.type !== 'code') return;"
            "  const o = c.model.outputs; for (let k = 0; k < o.length; k++) { const j = o.get(k).toJSON();"
            "    if (j.output_type === 'error') out.push(i + ': ' + j.ename + ': ' + j.evalue); } });"
            "return out;")
        assert not errors, f"cells raised: {errors}"
        # the explorer (cell 12, spectrogram_explorer) renders: scroll it into view, sliders appear
        driver.execute_script(nb +
                              "const c = w.content.widgets.find(c => c.model.sharedModel.getSource()"
                              "  .includes('spectrogram_explorer(wave'));"
                              "w.content.scrollToItem(w.content.widgets.indexOf(c));")
        _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .widget-slider")
              and d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jupyter-widgets.widget-vbox"),
              60, "the explorer's sliders in the notebook", tmp_path / "lab-widgets-timeout.png")
        print(f"\nlesson {LESSON.stem} in JupyterLab: opened, run and its widgets shown in {time.perf_counter() - t0:.1f} s")
        driver.save_screenshot(str(tmp_path / "lab-widgets.png"))
        _no_errors(driver, f"{LESSON.name} in JupyterLab")
    finally:
        srv.stop()


def test_book_page_draws_its_maths_offline(driver, tmp_path):
    """A book page (lesson 01's Markdown cells, not executed, and a heading with maths) opened from
    file:// in a Chromium with the network off: the formulas are drawn as MathML, no raw TeX shows."""
    import nbformat
    from selenium.webdriver.common.by import By

    from sertools.book import to_html
    nb = nbformat.read(LESSON, as_version=4)
    nb.cells = [nbformat.v4.new_markdown_cell(r"# Offline $\mathcal{L} = \frac{1}{N}\sum_i \ell_i$")] + [
        c for c in nb.cells if c.cell_type == "markdown"]
    page = tmp_path / "book-page.html"
    page.write_text(to_html(nb), encoding="utf-8")
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, "latency": 0,
                                                                 "downloadThroughput": -1, "uploadThroughput": -1})
    try:
        # the network is really off: a server on this machine cannot be reached
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        probe.listen()
        driver.get(page.as_uri())
        reached = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {mode: 'no-cors'}).then(() => done('online'), () => done('offline'));",
            f"http://127.0.0.1:{probe.getsockname()[1]}/")
        probe.close()
        assert reached == "offline", "the browser still reaches the network"
        _wait(driver, lambda d: d.execute_script("return document.readyState") == "complete", 60,
              "the page to load", tmp_path / "book-load.png")
        driver.save_screenshot(str(tmp_path / "book-page.png"))
        text = driver.find_element(By.TAG_NAME, "body").text
        assert "From waveform to spectrogram" in text
        for raw in ("\\mathcal", "\\frac", "\\sum", "\\text", "$$", "$\\"):
            assert raw not in text, f"raw TeX {raw!r} on the page:\n{text[:2000]}"
        maths = driver.find_elements(By.CSS_SELECTOR, "math")
        assert len(maths) >= 20, f"{len(maths)} math elements"
        assert all(m.size["width"] > 0 and m.size["height"] > 0 for m in maths if m.is_displayed())
        # drawn as MathML, not as unknown inline elements: the numerator of 1/N above its denominator,
        # and display maths on a line of its own
        drawn = driver.execute_script(
            "const f = document.querySelector('h1 mfrac'); if (!f) return 'no mfrac in the heading';"
            "const [num, den] = Array.from(f.children).map(e => e.getBoundingClientRect());"
            "if (!(num.height > 0 && den.height > 0)) return 'an empty fraction';"
            "if (!(num.bottom <= den.top + 1)) return 'numerator beside the denominator';"
            "const b = document.querySelector('math[display=block]');"
            "return b && getComputedStyle(b).display.includes('block') ? 'ok' : 'no block maths';")
        assert drawn == "ok", drawn
    finally:
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                                     "downloadThroughput": -1, "uploadThroughput": -1})
