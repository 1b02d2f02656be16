"""ipywidgets explorers for the lessons: move sliders, press Run, watch.

``explorer(fn, controls)`` is the one building block: a one-line hint (what
to move to see the effect grow or vanish), a column of controls, a Run
button and an output area; pressing Run calls ``fn(**values)`` and shows
what it draws or returns. Runs already stored come back at once
(``sertools.store.RunStore``), so revisiting a setting is instant.

Every factory starts at the settings where the effect it shows is there to
see: the preset's own label budget (``TrainConfig.n_labeled``, through
``budget_slider``) and each method's own defaults, and takes a ``hint`` (a
default one for each; ``hint=""`` shows none).
"""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import Audio, display

from .config import default_preset


def explorer(fn, controls: dict, run_label: str = "Run", run_now: bool = True, live: bool = False,
             hint: str | None = None):
    """Hint + controls + Run button + output. ``fn(**values)`` draws into the output.

    controls : name -> ipywidgets control (its ``value`` is passed as ``name``)
    run_now : call ``fn`` once at once with the initial values (so a notebook
        executed headless still shows a result)
    live : re-run whenever a control changes (for cheap functions)
    hint : one line shown above the controls: what to move to see the effect
        grow or vanish (``box.hint`` is that line's widget; none if empty)
    """
    out = W.Output()
    button = W.Button(description=run_label, button_style="primary", icon="play")

    def go(*_):
        button.disabled, button.description, button.icon = True, "Running…", "hourglass-half"
        out.clear_output(wait=True)
        with out:
            try:
                result = fn(**{k: c.value for k, c in controls.items()})
                if result is not None:
                    display(result)
                plt.show()
            finally:
                button.disabled, button.description, button.icon = False, run_label, "play"

    def first(*_):
        # The first run happens while the cell executes: its outputs are captured
        # and set on the output widget directly, not drawn through ``with out:``.
        # Voila (and nbclient) route the output of a running cell into an Output
        # widget by watching its msg_id; that hand-off sometimes stalls Voila's
        # execution of the page for good (seen with Voila 0.5.13, ipykernel 7.4).
        from IPython.utils.capture import capture_output
        with capture_output() as cap:
            result = fn(**{k: c.value for k, c in controls.items()})
            if result is not None:
                display(result)
            plt.show()
        outs = [{"output_type": "stream", "name": name, "text": text}
                for name, text in (("stdout", cap.stdout), ("stderr", cap.stderr)) if text]
        outs += [{"output_type": "display_data", "data": o.data, "metadata": o.metadata or {}} for o in cap.outputs]
        out.outputs = tuple(outs)

    button.on_click(go)
    if live:
        for c in controls.values():
            c.observe(go, names="value")
    line = hint_line(hint) if hint else None
    box = W.VBox(([line] if line else []) + [W.HBox(list(controls.values())[i:i + 3]) for i in range(0, len(controls), 3)]
                 + ([] if live else [button]) + [out])
    box.run = go  # callable from code, e.g. in tests
    box.hint = line
    if run_now:
        first()
    return box


def hint_line(text: str) -> W.HTML:
    """The one line above an explorer's controls: what to move, and what to look for."""
    import html
    return W.HTML(f"<b>Try:</b> {html.escape(text)}")


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


def budget_slider(preset: str | None = None, lo: int = 2, step: int = 1) -> W.IntSlider:
    """The label budget (labeled clips per class) from ``lo`` to the training
    pool's clips per class, starting at the preset's own ``n_labeled``: the
    budget every lesson's table reports, not one where nothing happens."""
    from .config import class_names, get_config
    ccfg, tcfg = get_config(preset or default_preset())
    n, top = tcfg.n_labeled, ccfg.n_train // len(class_names(ccfg.classes))
    return slider("labels per class", n, min(lo, n), max(top, n), step)


def dropdown(description, options, value=None):
    """A labelled ipywidgets dropdown (default: the first option)."""
    extra = {} if value is None else {"value": value}  # default: the first option
    return W.Dropdown(options=options, description=description, style={"description_width": "initial"}, **extra)


CLIP_HINT = ("slide the intensity down to 0 and every cue shrinks to neutral's (pitch, loudness, tempo, the face's "
             "action units); lower the SNR and noise covers the voice.")
SPECTROGRAM_HINT = ("move the window from 25 ms down to 5 ms and the harmonics (horizontal lines) blur into broad "
                    "formant bands; up to 60 ms and they sharpen while the syllable onsets blur.")
FUSION_HINT = ("move the face-voice agreement down to 0.4 and the face teacher's labels (orange) match the voice less "
               "often; up to 1.0 and more often; watch whether the fused labels (green) follow.")
COMPARE_HINT = ("set seeds to 1 and no difference can be tested (no ▲ / ▼ / ≈ marks); with 3 or more each mark is a "
                "paired test over the seeds: watch which survive.")


def method_hint(knobs) -> str:
    """The default hint of ``method_explorer``: what its knobs do to the unlabeled term."""
    if "tau" in knobs:
        return ("lower the threshold τ towards 0.5 and more unlabeled clips enter the loss (the mask_rate panel "
                "rises); set λ_u to 0 and the method trains as the baseline with other random draws.")
    if "lambda_u" in knobs:
        return "set λ_u to 0 and the method trains as the baseline with other random draws; raise it and the unlabeled term weighs more."
    return "move a control and press Run: both runs share the labeled clips, so the difference is the method's."


def clip_generator(run_now: bool = True, hint: str | None = CLIP_HINT):
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
    }, run_label="Generate", run_now=run_now, hint=hint)


def method_explorer(method: str, knobs: dict, preset: str | None = None, baseline: str = "supervised",
                    run_now: bool = True, store=None, progress: bool = False, hint: str | None = None):
    """Train ``method`` with the chosen knobs beside the baseline on the same
    split and seed; show both runs' curves and a small table.

    knobs : name -> control, names being config keys (``tau``, ``n_labeled``, ...);
        without an ``n_labeled`` control the runs take the preset's budget
        (``budget_slider`` gives one that starts there)
    progress : show tqdm bars (corpus, features, training steps) while a new run trains
    hint : the line above the controls (default ``method_hint(knobs)``; "" for none)
    """
    import pandas as pd
    from .store import RunStore
    from .viz import training_curves
    store = store or RunStore()
    preset = preset or default_preset()

    def go(**values):
        recs = [store.run(m, preset=preset, progress=progress, **values) for m in (baseline, method)]
        training_curves(recs)
        return pd.DataFrame([{"method": r.method, **{k: round(r.metrics[k], 2) for k in ("f1", "wa", "ua")},
                              "mask rate (%)": round(100 * r.late_mean("mask_rate"), 1)}
                             for r in recs]).set_index("method")

    return explorer(go, knobs, run_now=run_now, hint=method_hint(knobs) if hint is None else hint)


# --- lessons 00-02 (corpus, spectrograms, baseline) ---

def spectrogram_explorer(wave, sr: int = 16000, live: bool = True, hint: str | None = SPECTROGRAM_HINT):
    """Window length, hop, n_fft and n_mels of one clip: the STFT and the log-mel change live.

    Left: the STFT in Hz (``viz.stft_image``); right: the log-mel features the
    models see (``audio.FeatureExtractor``). A short window sharpens time and
    blurs frequency; a long one does the opposite.
    """
    import numpy as np
    import torch
    from .audio import FeatureExtractor
    from .viz import feature_image, stft_image

    def show(win_ms, hop_ms, n_fft, n_mels):
        n_fft = max(n_fft, int(sr * win_ms / 1000))
        fig, ax = plt.subplots(1, 2, figsize=(11, 3))
        stft_image(wave, sr, win_ms, hop_ms, n_fft, ax=ax[0])
        ext = FeatureExtractor("logmel", sr, n_fft, win_ms, hop_ms, n_mels)
        feature_image(ext(torch.from_numpy(np.asarray(wave, np.float32))), ax=ax[1],
                      title=f"log-mel: {n_mels} bands x {ext.n_frames(len(wave))} frames")
        fig.tight_layout()

    return explorer(show, {
        "win_ms": slider("window (ms)", 25.0, 5.0, 100.0, 1.0),
        "hop_ms": slider("hop (ms)", 10.0, 2.0, 50.0, 1.0),
        "n_fft": dropdown("n_fft", [128, 256, 512, 1024, 2048], 512),
        "n_mels": slider("n_mels", 40, 8, 128, 4),
    }, live=live, hint=hint)


# --- lessons 04-07 (semi-supervised methods) ---


# --- lessons 08-09 (cross-modal transfer, combined method) ---

def fusion_explorer(preset: str | None = None, agreements=(0.4, 0.55, 0.7, 0.85, 1.0), store=None,
                    run_now: bool = True, progress: bool = False, hint: str | None = FUSION_HINT):
    """The paper's fusion with its knobs, beside the supervised baseline.

    Controls: the method (``fusion_weighted`` or ``fusion_consistent``), alpha
    and the threshold tau (weighted fusion), epsilon (consistent fusion), and
    the corpus's ``face_voice_agreement`` from a few ``agreements``: a new
    value regenerates the corpus, its features and the teacher's clip
    distributions (a minute or more; the face teacher itself is reused).
    Shows the pseudo-label quality (``viz.pseudo_label_quality``), the
    diagnosis (``reports.fusion_diagnosis``) and a table. Runs already in the
    ``RunStore`` come back at once (its key ignores knobs a method does not use).
    ``progress`` shows tqdm bars while new runs train. The runs take the
    preset's label budget and the corpus's own agreement to start with.
    """
    import pandas as pd
    from .config import get_config
    from .methods import METHODS
    from .reports import fusion_diagnosis
    from .store import RunStore
    from .viz import pseudo_label_quality
    store = store or RunStore()
    preset = preset or default_preset()
    ccfg, tcfg = get_config(preset)

    def go(method, alpha, tau, epsilon, face_voice_agreement):
        # sliders give 0.7000000000000001: round so the store finds the run; knobs the
        # method does not use do not enter its store key
        knobs = {k: round(v, 4) for k, v in dict(alpha=alpha, tau=tau, epsilon=epsilon).items()}
        corpus = dict(face_voice_agreement=face_voice_agreement)
        base = store.run("supervised", preset=preset, progress=progress, **corpus)
        rec = store.run(method, preset=preset, progress=progress, **corpus, **knobs)
        pseudo_label_quality([rec])
        plt.show()
        display(fusion_diagnosis(base, rec))
        return pd.DataFrame([{"method": r.method, **{k.upper(): round(r.metrics[k], 1) for k in ("f1", "wa", "ua")}}
                             for r in (base, rec)]).set_index("method")

    return explorer(go, {
        "method": dropdown("method", ["fusion_weighted", "fusion_consistent"], "fusion_consistent"),
        "alpha": slider("alpha (weighted: face weight)", METHODS["fusion_weighted"].defaults["alpha"], 0.0, 1.0, 0.1),
        "tau": slider("tau (weighted: threshold)", METHODS["fusion_weighted"].defaults["tau"], 0.3, 1.0, 0.05),
        "epsilon": slider("epsilon (consistent)", METHODS["fusion_consistent"].defaults["epsilon"], 0.0, 1.0, 0.1),
        "face_voice_agreement": dropdown("face-voice agreement", sorted({*agreements, ccfg.face_voice_agreement}),
                                         ccfg.face_voice_agreement),
    }, run_now=run_now, hint=hint)


# --- lessons 10-12 (comparison, classic methods, own corpus) ---

def _intensity_knob(ccfg) -> dict:
    """The explorer's emotion-intensity control, on the knob the corpus's style reads: ``intensity_max`` (the
    upper end of the uniform draw) for ``style="acted"``, ``intensity_a`` (intensity ~ Beta(a, b), mean
    a / (a + b)) for ``style="natural"``, which never reads ``intensity_max``."""
    if ccfg.style == "acted":
        return {"intensity_max": slider("max emotion intensity", ccfg.intensity_max, ccfg.intensity_min, 1.0, 0.05)}
    return {"intensity_a": slider(f"emotion intensity: Beta a (b = {ccfg.intensity_b:g})", ccfg.intensity_a, 0.5, 10.0, 0.5)}


def compare_explorer(methods=("supervised", "fixmatch", "fusion_consistent"), seeds: int = 3,
                     preset: str | None = None, out=None, how: str = "tsne", run_now: bool = True,
                     progress: bool = False, hint: str | None = COMPARE_HINT):
    """The comparison as an explorer: pick methods, label budget, seeds and corpus knobs, press Run.

    Shows the table (``results.table_markdown``), the UA / F1 bars over seeds
    (``viz.metric_bars``) and the test embeddings of supervised and the best
    methods (``viz.embedding_grid``, ``how`` = "tsne" or "umap"). Runs are
    looked up in, and added to, the ``RunStore`` at ``out`` (the folder of
    ``results.compare``), so a setting seen before comes back at once; a new
    corpus knob means a new corpus (and its features) first. ``progress``
    shows tqdm bars (over the runs, and inside each new run) while it works.
    It starts at the preset's label budget (``budget_slider``) and ``seeds``
    seeds, enough for a paired test.
    """
    from IPython.display import Markdown
    from tqdm.auto import tqdm
    from .config import get_config
    from .results import summarize, table_markdown
    from .store import RunStore, all_methods
    from .viz import best_per_group, embedding_grid, metric_bars
    preset = preset or default_preset()
    store = RunStore(out)
    ccfg, tcfg = get_config(preset)

    def go(methods, seeds, **knobs):
        knobs = {k: round(v, 4) if isinstance(v, float) else v for k, v in knobs.items()}  # 0.7, not 0.7000000001
        done = {}
        bar = tqdm(total=len(methods) * seeds, desc="runs", disable=not progress, leave=False)
        for m in methods:
            try:
                done[m] = []
                for s in range(seeds):
                    done[m].append(store.run(m, seed=s, preset=preset, progress=progress, **knobs))
                    bar.update()
            except Exception as e:  # one failing method must not hide the others
                done.pop(m)
                print(f"! {m}: {type(e).__name__}: {e}")
        bar.close()
        if not done:
            return None
        df = summarize(done)
        display(Markdown(table_markdown(df, f"{seeds} seed(s); " + ", ".join(f"{k}={v}" for k, v in knobs.items()))))
        metric_bars(df)
        embedding_grid([done[m][0] for m in (best_per_group(done) or list(done)[:3])], how)

    return explorer(go, {
        "methods": W.SelectMultiple(options=all_methods(), value=tuple(methods), rows=8, description="methods"),
        "n_labeled": budget_slider(preset),
        "seeds": slider("seeds", seeds, 1, 5),
        "face_voice_agreement": slider("face-voice agreement", ccfg.face_voice_agreement, 0.0, 1.0, 0.05),
        **_intensity_knob(ccfg),
        "snr_db_b": slider("SNR of domain B (dB)", ccfg.snr_db_b, 0.0, 30.0, 1.0),
    }, run_now=run_now, hint=hint)
