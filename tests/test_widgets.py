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
