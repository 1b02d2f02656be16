"""One run from a name and a few knobs: corpus -> features -> views -> method -> fit.

``run("fixmatch", preset="quick", tau=0.9)`` is what the CLI, the results
store and the notebooks call. Corpora, features and views are cached (on
disk, and in memory for the session), so the second run on the same data
starts training at once.
"""
from __future__ import annotations

import torch

from .audio import TRACKS, channel_copies, copies_for, corpus_features
from .config import config_hash, get_config, stage_key
from .corpora import corpus_key, load_corpus
from .methods import make_method
from .models import speech_model
from .core import RunRecord, path_seed, seed_everything, with_clip_info
from .train import fit
from .views import make_views

_CLIPS: dict = {}


def get_clips(corpus: str, ccfg, progress: bool = True):
    """The corpus, kept in memory for the session."""
    key = (corpus, config_hash(ccfg))
    if key not in _CLIPS:
        _CLIPS.clear()  # keep one corpus in memory at a time
        _CLIPS[key] = load_corpus(corpus, ccfg, progress=progress)
    return _CLIPS[key]


_VIEWS: dict = {}


def get_views(corpus: str, ccfg, tcfg, with_face: bool = False, progress: bool = True):
    """Views for a run's label budget and seed (with the face teacher's
    clip distributions on the unlabeled view when ``with_face``)."""
    key = (corpus, config_hash(ccfg), stage_key("views", tcfg))
    if key not in _VIEWS:
        if len(_VIEWS) >= 4:
            _VIEWS.pop(next(iter(_VIEWS)))
        clips = get_clips(corpus, ccfg, progress=progress)
        feats = corpus_features(clips, tcfg, key=corpus_key(clips))
        copies = channel_copies(clips, clips.indices("train"), tcfg, key=corpus_key(clips)) \
            if copies_for(tcfg, clips.name) else None  # None: 1 on the built-in corpus, 0 on real ones
        _VIEWS[key] = make_views(clips, feats, tcfg.n_labeled, tcfg.seed, norm=tcfg.norm,
                                 track_norm=tcfg.track_norm, n_tracks=len(TRACKS) if tcfg.pitch_tracks else 0,
                                 copies=copies)
    views = _VIEWS[key]
    if with_face and views.meta.get("face_key") != (face_key := stage_key("face_dist", ccfg, tcfg)):
        from .teacher import clip_distributions
        dist = clip_distributions(get_clips(corpus, ccfg, progress=progress), ccfg, tcfg, progress=progress)
        views.unlabeled.face = torch.as_tensor(dist[views.unlabeled.rows], dtype=torch.float32)
        views.meta["face_key"] = face_key
    return views


def run(method: str, preset: str | None = None, corpus: str = "builtin", progress: bool = True,
        **overrides) -> RunRecord:
    """Train and test one method; return its ``RunRecord``.

    ``overrides`` set any field of the preset's CorpusConfig or TrainConfig
    (``n_labeled=10``, ``tau=0.9``, ``face_voice_agreement=0.5``, ...).
    """
    ccfg, tcfg = get_config(preset, **overrides)
    m = make_method(method, tcfg)
    views = get_views(corpus, ccfg, tcfg, with_face=m.needs_face, progress=progress)
    seed_everything(path_seed(tcfg))  # the model's initial weights belong to the run's path seed
    model = speech_model(views.n_in, views.n_classes, tcfg)
    record = fit(m, model, views, tcfg, progress=progress)
    record.predictions = with_clip_info(record.predictions, get_clips(corpus, ccfg, progress=progress).table)
    record.config.update({"corpus": corpus, "corpus_config": config_hash(ccfg), "preset": preset})
    return record


def predict_view(record: RunRecord, view: str = "unlabeled", preset: str | None = None,
                 corpus: str = "builtin", **overrides):
    """(probabilities, true labels) of a finished run's model on one view:
    ``unlabeled`` (domain B on the built-in corpus; the labels were hidden
    from training and serve only to score), ``val`` or ``test``. Pass the
    run's preset and overrides so the same features are used."""
    from .core import select_device
    from .train import predict
    ccfg, tcfg = get_config(preset, **overrides)
    views = get_views(corpus, ccfg, tcfg, progress=False)
    model = speech_model(views.n_in, views.n_classes, tcfg)
    model.load_state_dict(record.state_dict)
    split = getattr(views, view)
    return predict(model, split, select_device(tcfg.device)), split.y.numpy()
