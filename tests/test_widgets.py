"""The comparison explorer's corpus knobs are ones the corpus reads."""
import pytest

pytest.importorskip("ipywidgets")

from sertools import widgets  # noqa: E402
from sertools.config import get_config  # noqa: E402


@pytest.mark.parametrize("style, knob", [("natural", "intensity_a"), ("acted", "intensity_max")])
def test_compare_explorer_intensity_knob_is_read_by_the_style(style, knob, monkeypatch, tmp_path):
    """The natural style draws intensity from Beta(intensity_a, intensity_b) and never reads intensity_max:
    a slider on it would only rebuild an identical corpus under another cache key."""
    seen = {}
    monkeypatch.setattr(widgets, "explorer", lambda fn, controls, **kw: seen.update(controls))
    import sertools.config as config
    real = config.get_config
    monkeypatch.setattr(config, "get_config", lambda preset=None, **kw: real(preset, style=style, **kw))
    widgets.compare_explorer(preset="quick", out=tmp_path, run_now=False)
    intensity = [k for k in seen if k.startswith("intensity")]
    assert intensity == [knob]
    assert seen[knob].value == getattr(get_config("quick", style=style)[0], knob)


def test_explorer_shows_its_hint_above_the_controls():
    """The one line saying what to move comes first, above the controls; no hint, no line."""
    import ipywidgets as W
    box = widgets.explorer(lambda a: None, {"a": widgets.slider("a", 1, 0, 2)}, run_now=False, hint="move a to 0")
    assert isinstance(box.children[0], W.HTML) and "move a to 0" in box.children[0].value
    assert box.hint is box.children[0]
    bare = widgets.explorer(lambda a: None, {"a": widgets.slider("a", 1, 0, 2)}, run_now=False)
    assert bare.hint is None and isinstance(bare.children[0], W.HBox)


@pytest.mark.parametrize("preset", ["quick", "default", "full"])
def test_budget_slider_starts_at_the_presets_label_budget(preset):
    n = get_config(preset)[1].n_labeled
    s = widgets.budget_slider(preset)
    assert s.value == n and s.min <= n <= s.max
    assert widgets.budget_slider(preset, lo=5, step=5).value == n


def _controls(box):
    """Every control of an explorer box, by description."""
    import ipywidgets as W
    out = {}
    for row in box.children:
        for c in (row.children if isinstance(row, W.HBox) else ()):
            out[c.description] = c
    return out


def test_each_explorer_starts_at_the_presets_budget_with_a_hint(tmp_path):
    """Every factory shows a hint line first; the explorers that train start at the preset's own label budget."""
    import ipywidgets as W
    import numpy as np
    n = get_config("quick")[1].n_labeled
    wave = (0.1 * np.sin(2 * np.pi * 220 * np.arange(4000) / 16000)).astype(np.float32)
    boxes = {
        "clip": widgets.clip_generator(run_now=False),
        "spectrogram": widgets.spectrogram_explorer(wave, 16000),
        "method": widgets.method_explorer("fixmatch", {"tau": widgets.slider("threshold τ", 0.95, 0.5, 0.99, 0.01),
                                                       "n_labeled": widgets.budget_slider("quick", lo=5, step=5)},
                                          preset="quick", store=object(), run_now=False),
        "fusion": widgets.fusion_explorer(preset="quick", store=object(), run_now=False),
        "compare": widgets.compare_explorer(preset="quick", out=tmp_path, run_now=False),
    }
    for name, box in boxes.items():
        assert isinstance(box.children[0], W.HTML) and box.children[0].value.startswith("<b>Try:</b> "), name
        assert len(box.children[0].value) > len("<b>Try:</b> ") + 20, name
    assert "τ" in boxes["method"].children[0].value  # the default hint names the knob it has
    for name in ("method", "compare"):
        assert _controls(boxes[name])["labels per class"].value == n, name
    assert _controls(boxes["compare"])["seeds"].value >= 2  # enough seeds for a paired test
    assert widgets.explorer(lambda: None, {}, run_now=False, hint="").hint is None
