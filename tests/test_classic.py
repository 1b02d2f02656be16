"""The classic methods (sertools.classic) and their features (sertools.prosody),
on the quick preset's corpus. The cache folder and the preset come from
conftest.py."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from sertools import classic, experiment
from sertools.config import ConfigError
from sertools.corpora import corpus_key
from sertools.prosody import feature_table, prosodic_features

N_CLASSES = 4


@pytest.fixture(scope="module")
def clips(quick_config):
    return experiment.get_clips("builtin", quick_config[0], progress=False)


@pytest.fixture(scope="module")
def records(clips):
    return {m: classic.run(m, preset="quick", progress=False) for m in classic.CLASSIC_METHODS}


def test_method_names_in_the_agreed_order():
    assert list(classic.CLASSIC_METHODS) == ["svm", "gmm", "self_training", "label_spreading", "co_training"]


def _digits_accuracy(method: str, shuffle: bool) -> float:
    """Held-out accuracy (%) of ``classic.fit_method`` on scikit-learn's digits as lesson 03 splits them
    (``digits_views``: 10 labels per class, the rest of the training pool unlabeled, 500 test images); the left
    and right halves of each image are co-training's two views. ``shuffle`` permutes the labels given to the
    method (the control)."""
    from sertools.config import get_config
    from sertools.digits import digits_views
    v = digits_views(n_labeled=10, seed=0, flat=True)
    Xl, Xu, Xt = v.labeled.x.numpy(), v.unlabeled.x.numpy(), v.test.x.numpy()
    yl = v.labeled.y.numpy()
    if shuffle:
        yl = np.random.default_rng(1).permutation(yl)
    left, right = (np.arange(64).reshape(8, 8)[:, half].ravel() for half in (slice(0, 4), slice(4, 8)))
    d = {"Xl": Xl, "Xu": Xu, "yl": yl, "Fl": Xl[:, right], "Fu": Xu[:, right]}
    if method == "co_training":  # the voice view is the left half, the face view the right one
        d["Xl"], d["Xu"], Xt = Xl[:, left], Xu[:, left], Xt[:, left]
    clf, _ = classic.fit_method(method, d, 0, get_config("quick")[1])
    return 100 * float((clf.predict(Xt) == v.test.y.numpy()).mean())


@pytest.mark.parametrize("method", list(classic.CLASSIC_METHODS))
def test_each_method_learns_the_known_answers_of_digits(method):
    """Every classic method, given 10 labels per digit, recognises held-out digits far above chance (10 %);
    the control, the same labels shuffled among the images, leaves it near chance. (On the quick preset's
    corpus, 12 speakers and 106 test clips, the prosodic classic methods score 28-39 % UA at 20 labels per
    class over seeds 0-4, too close to chance for one seed to show that a method learns.)"""
    assert _digits_accuracy(method, shuffle=False) > 60.0
    assert _digits_accuracy(method, shuffle=True) < 25.0


@pytest.mark.parametrize("method", list(classic.CLASSIC_METHODS))
def test_record_is_complete(records, clips, quick_config, method):
    rec = records[method]
    views = experiment.get_views("builtin", *quick_config)
    n_test = len(views.test)
    assert {"wa", "ua", "f1", "macro_f1"} <= set(rec.metrics)
    assert all(0.0 <= rec.metrics[k] <= 100.0 for k in ("wa", "ua", "f1", "macro_f1"))
    np.testing.assert_array_equal(rec.y_true, views.test.y.numpy())  # the deep methods' test set
    assert rec.y_pred.shape == (n_test,) and rec.probs.shape == (n_test, N_CLASSES)
    np.testing.assert_allclose(rec.probs.sum(1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(rec.y_pred, rec.probs.argmax(1))
    assert rec.embeddings.shape[0] == n_test and np.isfinite(rec.embeddings).all()
    assert rec.history == [] and rec.classes == clips.classes and rec.seconds > 0
    assert rec.config["features"] == "prosody" and rec.config["preset"] == "quick"


def test_prosodic_features_are_finite(clips):
    table = feature_table(clips.waves, clips.sr, progress=False, key=corpus_key(clips))
    assert len(table) == len(clips) and table.shape[1] == len(prosodic_features(clips.waves[0], clips.sr))
    assert np.isfinite(table.to_numpy()).all()
    again = feature_table(clips.waves, clips.sr, progress=False, key=corpus_key(clips))  # from the cache
    np.testing.assert_allclose(again.to_numpy(), table.to_numpy())


def test_prosodic_features_of_silence_and_tiny_clips_are_finite():
    for wave in (np.zeros(16000, np.float32), np.zeros(100, np.float32), np.ones(800, np.float32)):
        assert np.isfinite(list(prosodic_features(wave, 16000).values())).all()


def test_logmel_functionals_also_work():
    # on the acted corpus, whose classes are clear: the feature path must find them (on the natural one an SVM on
    # log-mel functionals with the quick preset's few labels is near chance, which would prove nothing)
    rec = classic.run("svm", preset="quick", progress=False, features="logmel", style="acted")
    assert rec.metrics["ua"] > 40.0


def test_unknown_method_and_key_are_refused():
    with pytest.raises(ValueError, match="choose one of svm, gmm"):
        classic.run("svn", preset="quick")
    with pytest.raises(ConfigError, match="unknown config key 'n_labelled'"):
        classic.run("svm", preset="quick", n_labelled=10)
    with pytest.raises(ValueError, match="features='mfcc'"):
        classic.run("svm", preset="quick", features="mfcc")


@pytest.mark.skipif(importlib.util.find_spec("opensmile") is not None, reason="opensmile is installed")
def test_egemaps_without_opensmile_says_how_to_install():
    with pytest.raises(ImportError, match=r"sertools\[egemaps\]"):
        classic.run("svm", preset="quick", features="egemaps")


def test_co_training_without_video_says_it_needs_videos(clips, monkeypatch):
    audio_only = clips.subset(np.arange(len(clips)))
    audio_only.frames = None
    monkeypatch.setattr(experiment, "get_clips", lambda *a, **k: audio_only)
    with pytest.raises(ValueError, match="co_training needs videos"):
        classic.run("co_training", preset="quick", progress=False)


def test_gmm_classifier_separates_two_blobs():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (40, 3)), rng.normal(4, 1, (40, 3))])
    y = np.repeat([0, 1], 40)
    clf = classic.GMMClassifier(random_state=0).fit(X, y)
    assert (clf.predict(X) == y).mean() > 0.95
    np.testing.assert_allclose(clf.predict_proba(X).sum(1), 1.0)


needs_opensmile = pytest.mark.skipif(importlib.util.find_spec("opensmile") is None,
                                     reason="opensmile absent: pip install 'sertools[egemaps]' (make setup does)")


@needs_opensmile
def test_egemaps_of_a_generated_clip_are_88_finite_values(clips):
    table = feature_table(clips.waves[:3], clips.sr, progress=False, kind="egemaps")
    assert table.shape == (3, 88)
    assert np.isfinite(table.to_numpy()).all()
    assert "F0semitoneFrom27.5Hz_sma3nz_amean" in table.columns


@needs_opensmile
def test_egemaps_cues_follow_the_simulation(clips):
    """openSMILE hears what the synthesizer was asked for: angry is louder than sad."""
    from sertools import reports
    t = clips.table[clips.table.split == "train"]
    feats = feature_table([clips.waves[i] for i in t.index], clips.sr, progress=False, kind="egemaps")
    cues = reports.cue_table(feats, [clips.classes[i] for i in t.label], t.speaker, t.intensity.mean())
    loud = cues[("loudness (x neutral)", "measured")]
    assert loud["angry"] > 1.0 > loud["sad"]
    assert cues[("F0 (st re neutral)", "measured")]["angry"] > 0


@needs_opensmile
def test_compare_with_egemaps_features_end_to_end(tmp_path):
    import pandas as pd
    from sertools.cli import main
    out = tmp_path / "res"
    assert main(["compare", "--methods", "svm,self_training,label_spreading", "--features", "egemaps",
                 "--seeds", "1", "--preset", "quick", "--out", str(out), "--quiet", "--set", "style=acted"]) == 0
    df = pd.read_csv(out / "results.csv")
    assert list(df.method) == ["svm", "self_training", "label_spreading"]
    assert (df.ua > 35).all(), df
    assert "egemaps features" in (out / "results.md").read_text()


# ------------------------------------------ negative controls: the unlabeled clips are used

def _two_view_data(shift: float = 0.0, seed: int = 0):
    """Synthetic clips of 4 classes with a voice view X and a face view F (6
    features each, independent given the class, as co-training assumes): 4
    labeled clips per class, 240 unlabeled ones (drawn with ``seed``, every
    feature of both views moved by ``shift``) and 300 test clips."""
    rng = np.random.default_rng(0)
    cv, cf = rng.normal(0, 1.6, (N_CLASSES, 6)), rng.normal(0, 1.6, (N_CLASSES, 6))

    def draw(y, r, shift=0.0):
        return cv[y] + r.normal(0, 1, (len(y), 6)) + shift, cf[y] + r.normal(0, 1, (len(y), 6)) + shift

    yl = np.repeat(np.arange(N_CLASSES), 4)
    Xl, Fl = draw(yl, rng)
    Xt, _ = draw(rng.integers(0, N_CLASSES, 300), rng)
    ru = np.random.default_rng(100 + seed)
    Xu, Fu = draw(ru.integers(0, N_CLASSES, 240), ru, shift)
    return {"Xl": Xl, "yl": yl, "Xu": Xu, "Fl": Fl, "Fu": Fu}, Xt


def _test_predictions(method, d, Xt, quick_config):
    clf, _ = classic.fit_method(method, d, 0, quick_config[1])
    return clf.predict(Xt)


@pytest.mark.parametrize("method", ["self_training", "label_spreading", "co_training"])
def test_each_semi_supervised_method_follows_its_unlabeled_clips(method, quick_config):
    """The same labeled clips, the unlabeled ones drawn again and moved by 2 in every
    feature: a method that learns from them predicts differently on the same test
    clips (measured: 8-12 % of them), while refitting on the same data repeats
    itself exactly, and the SVM, which never sees them, does not move at all."""
    d, Xt = _two_view_data()
    moved, _ = _two_view_data(shift=2.0, seed=1)
    moved = {**d, "Xu": moved["Xu"], "Fu": moved["Fu"]}
    a = _test_predictions(method, d, Xt, quick_config)
    np.testing.assert_array_equal(a, _test_predictions(method, d, Xt, quick_config))   # deterministic
    changed = (a != _test_predictions(method, moved, Xt, quick_config)).mean()
    assert changed > 0.05, f"{method}: {changed:.1%} of the test predictions changed with other unlabeled clips"
    np.testing.assert_array_equal(_test_predictions("svm", d, Xt, quick_config),
                                  _test_predictions("svm", moved, Xt, quick_config))
