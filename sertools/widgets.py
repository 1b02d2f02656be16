"""ipywidgets explorers for the lessons: move sliders, press Run, watch.

``explorer(fn, controls)`` is the one building block: a column of controls,
a Run button and an output area; pressing Run calls ``fn(**values)`` and
shows what it draws or returns. Runs already stored come back at once
(``sertools.results.RunStore``), so revisiting a setting is instant.
"""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import Audio, display

from .config import default_preset


def explorer(fn, controls: dict, run_label: str = "Run", run_now: bool = True, live: bool = False):
    """Controls + Run button + output. ``fn(**values)`` draws into the output.

    controls : name -> ipywidgets control (its ``value`` is passed as ``name``)
    run_now : call ``fn`` once at once with the initial values (so a notebook
        executed headless still shows a result)
    live : re-run whenever a control changes (for cheap functions)
    """
    out = W.Output()
    button = W.Button(description=run_label, button_style="primary", icon="play")

    def go(*_):
        button.disabled = True
        out.clear_output(wait=True)
        with out:
            try:
                result = fn(**{k: c.value for k, c in controls.items()})
                if result is not None:
                    display(result)
                plt.show()
            finally:
                button.disabled = False

    button.on_click(go)
    if live:
        for c in controls.values():
            c.observe(go, names="value")
    box = W.VBox([W.HBox(list(controls.values())[i:i + 3]) for i in range(0, len(controls), 3)]
                 + ([] if live else [button]) + [out])
    box.run = go  # callable from code, e.g. in tests
    if run_now:
        go()
    return box


def slider(description, value, lo, hi, step=None, log=False):
    """A float/int slider with a readable description width."""
    style = {"description_width": "initial"}
    if log:
        return W.FloatLogSlider(value=value, base=10, min=lo, max=hi, step=step or 0.1,
                                description=description, style=style)
    if isinstance(value, int) and (step is None or isinstance(step, int)):
        return W.IntSlider(value=value, min=lo, max=hi, step=step or 1, description=description, style=style)
    return W.FloatSlider(value=value, min=lo, max=hi, step=step or (hi - lo) / 20, description=description,
                         style=style)


def dropdown(description, options, value=None):
    return W.Dropdown(options=options, value=value if value is not None else options[0], description=description,
                      style={"description_width": "initial"})


def clip_generator(run_now: bool = True):
    """Make a clip from chosen emotion, intensity, speaker and noise: hear and see each cue."""
    from .synth.corpus import demo_clip
    from .viz import face_strip, waveform_and_spectrogram

    def show(emotion, intensity, sex, snr_db, seed):
        wave, frames, sr = demo_clip(emotion, intensity, sex, snr_db, seed)
        display(Audio(wave, rate=sr))
        face_strip(frames[::2], title=f"{emotion}, intensity {intensity:.1f}")
        waveform_and_spectrogram(wave, sr, title=f"{emotion} voice ({'female' if sex == 'f' else 'male'}), SNR {snr_db:.0f} dB")

    return explorer(show, {
        "emotion": dropdown("emotion", ["neutral", "happy", "sad", "angry"], "angry"),
        "intensity": slider("intensity", 1.0, 0.0, 1.0, 0.1),
        "sex": dropdown("speaker", [("female", "f"), ("male", "m")]),
        "snr_db": slider("SNR (dB)", 25.0, 0.0, 40.0, 1.0),
        "seed": slider("seed", 0, 0, 20),
    }, run_label="Generate", run_now=run_now)


def method_explorer(method: str, knobs: dict, preset: str | None = None, baseline: str = "supervised",
                    run_now: bool = True, store=None):
    """Train ``method`` with the chosen knobs beside the baseline on the same
    split and seed; show both runs' curves and a small table.

    knobs : name -> control, names being config keys (``tau``, ``n_labeled``, ...)
    """
    import pandas as pd
    from .results import RunStore
    from .viz import training_curves
    store = store or RunStore("results/explorer")
    preset = preset or default_preset()

    def go(**values):
        recs = [store.run(m, preset=preset, progress=False, **values) for m in (baseline, method)]
        training_curves(recs)
        return pd.DataFrame([{"method": r.method, **{k: round(r.metrics[k], 2) for k in ("f1", "wa", "ua")}}
                             for r in recs]).set_index("method")

    return explorer(go, knobs, run_now=run_now)
