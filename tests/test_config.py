"""Cache keys come from the fields each stage reads (config.STAGE_FIELDS), in one place."""
import dataclasses
import types

import numpy as np
import pytest

from sertools.config import STAGE_FIELDS, CorpusConfig, TrainConfig, get_config, stage_key


def _changed(cfg, name):
    """``cfg`` with field ``name`` set to another valid value."""
    v = getattr(cfg, name)
    other = {bool: lambda x: not x, int: lambda x: x + 1, float: lambda x: x * 0.5 + 0.25}
    if type(v) in other:
        return dataclasses.replace(cfg, **{name: other[type(v)](v)})
    alternatives = {"frontend": "stft", "classes": "sentiment3", "face_arch": "mobilenetv3_small_050", "face_head": "timm",
                    "face_teacher": "fer2013", "fer_map": "fold", "aggregate": "vote", "norm": "speaker",
                    "track_norm": "utterance", "channel_copies": 2}
    new = alternatives[name] if alternatives[name] != v else "pool"
    return dataclasses.replace(cfg, **{name: new})


@pytest.mark.parametrize("stage", sorted(STAGE_FIELDS))
def test_changing_any_field_a_stage_reads_changes_its_key(stage):
    ccfg, tcfg = get_config("quick")
    base = stage_key(stage, ccfg, tcfg)
    assert stage_key(stage, ccfg, tcfg) == base                      # stable
    for name in STAGE_FIELDS[stage]:
        c2 = _changed(ccfg, name) if hasattr(ccfg, name) else ccfg
        t2 = _changed(tcfg, name) if not hasattr(ccfg, name) else tcfg
        assert stage_key(stage, c2, t2) != base, f"{stage}: changing {name} kept the key"


def test_a_field_the_stage_does_not_read_keeps_its_key():
    ccfg, tcfg = get_config("quick")
    assert stage_key("features", ccfg, dataclasses.replace(tcfg, lr=tcfg.lr * 2)) == stage_key("features", ccfg, tcfg)
    # the bug this replaced: the face teacher's architecture and epochs were missing from the
    # in-memory key of the clip distributions, so changing either reused the old teacher's labels
    assert stage_key("face_dist", ccfg, dataclasses.replace(tcfg, face_epochs=3)) != stage_key("face_dist", ccfg, tcfg)


class Spy:
    """A TrainConfig that remembers which fields were read."""

    def __init__(self, cfg):
        object.__setattr__(self, "_cfg", cfg)
        object.__setattr__(self, "read", set())

    def __getattr__(self, name):
        self.read.add(name)
        return getattr(self._cfg, name)


def test_the_features_step_reads_only_the_fields_of_its_key():
    from sertools.audio import corpus_features
    t = np.arange(16000) / 16000
    clips = types.SimpleNamespace(waves=[np.sin(2 * np.pi * 200 * t).astype(np.float32)] * 2, sr=16000)
    spy = Spy(TrainConfig())
    corpus_features(clips, spy, key=None)
    assert spy.read and spy.read <= set(STAGE_FIELDS["features"]), spy.read - set(STAGE_FIELDS["features"])


def test_the_views_step_reads_only_the_fields_of_its_key(quick_config):
    from sertools import experiment
    ccfg, tcfg = quick_config
    spy = Spy(dataclasses.replace(tcfg, n_labeled=3))
    experiment.get_views("builtin", ccfg, spy, progress=False)
    assert spy.read <= set(STAGE_FIELDS["views"]), spy.read - set(STAGE_FIELDS["views"])


def test_every_stage_field_is_a_config_field():
    names = {f.name for f in dataclasses.fields(CorpusConfig)} | {f.name for f in dataclasses.fields(TrainConfig)}
    for stage, fields in STAGE_FIELDS.items():
        assert set(fields) <= names, (stage, set(fields) - names)


def test_the_renamed_key_says_what_to_write_instead():
    from sertools.config import ConfigError
    with pytest.raises(ConfigError, match="'features' is now 'frontend'"):
        get_config("quick", features="stft")
    assert get_config("quick", frontend="stft")[1].frontend == "stft"
