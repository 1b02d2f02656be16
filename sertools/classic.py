"""The paper's "traditional methods": handcrafted features and scikit-learn.

Before deep networks, speech emotion recognition measured a few dozen
acoustic cues per utterance (``sertools.prosody``, in the spirit of eGeMAPS)
and gave the vector to a shallow classifier. With few labels the classic
answer was to let the unlabeled clips help through one of three ideas, all
older than deep learning and all still inside today's methods:

- ``svm``: a support vector machine with an RBF kernel, trained on the
  labeled clips only (the supervised baseline of this family).
- ``gmm``: one Gaussian mixture per class, fitted to that class's labeled
  clips; a clip goes to the class whose mixture finds it most likely. The
  standard acoustic classifier of the 2000s (Neiberg et al. 2006).
- ``self_training``: the SVM labels the unlabeled clips it is most sure of
  (the 5 % of the pool with the highest probability each round, or all
  above a threshold ``tau`` when one is set), adds them to its training set
  and is trained again, for ten rounds (Yarowsky 1995). Pseudo-labelling
  and FixMatch are its deep heirs.
- ``label_spreading``: labeled and unlabeled clips become the nodes of a
  k-nearest-neighbour graph; labels flow along its edges until they settle
  (Zhu & Ghahramani 2002; Zhou et al. 2004). It relies on the cluster
  assumption: clips close in feature space share a class.
- ``co_training``: two views of every clip, here the voice (prosodic
  features) and the face (HOG of the clip's mean video frame, reduced to 50
  principal components), each with its own classifier; in every round each
  classifier labels its most confident unlabeled clips for the other (Blum
  & Mitchell 1998). It is the classic ancestor of cross-modal transfer: the
  face teaches the voice. The final model is the voice classifier, since
  the task is *speech* emotion recognition.

All methods see exactly the data the deep methods see for the same seed:
the labeled clips, the unlabeled pool and the test set come from
``sertools.experiment.get_views``. Features are standardised with the
statistics of the in-domain training pool, as the deep methods' are.

References
----------
Blum, A., & Mitchell, T. (1998). Combining labeled and unlabeled data with
co-training. COLT 1998, 92-100.

Dalal, N., & Triggs, B. (2005). Histograms of oriented gradients for human
detection. CVPR 2005, 886-893.

Eyben, F., et al. (2016). The Geneva Minimalistic Acoustic Parameter Set
(GeMAPS) for voice research and affective computing. IEEE Transactions on
Affective Computing, 7(2), 190-202.

Neiberg, D., Elenius, K., & Laskowski, K. (2006). Emotion recognition in
spontaneous speech using GMMs. Interspeech 2006, 809-812.

Platt, J. (1999). Probabilistic outputs for support vector machines and
comparisons to regularized likelihood methods. In Advances in Large Margin
Classifiers, MIT Press, 61-74.

Yarowsky, D. (1995). Unsupervised word sense disambiguation rivaling
supervised methods. ACL 1995, 189-196.

Zhou, D., Bousquet, O., Lal, T. N., Weston, J., & Schölkopf, B. (2004).
Learning with local and global consistency. NeurIPS 16, 321-328.

Zhu, X., & Ghahramani, Z. (2002). Learning from labeled and unlabeled data
with label propagation. Technical report CMU-CALD-02-107, Carnegie Mellon
University.
"""
from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np
import pandas as pd
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from .config import RANGES, config_hash, get_config
from .metrics import evaluate
from .core import RunRecord, prediction_frame, with_clip_info

CLASSIC_METHODS = {
    "svm": "SVM with an RBF kernel on the labeled clips only",
    "gmm": "one Gaussian mixture per class, classify by likelihood (labeled clips only)",
    "self_training": "an SVM that labels its most confident unlabeled clips and retrains (Yarowsky 1995)",
    "label_spreading": "labels spread over a k-nearest-neighbour graph of all clips (Zhou et al. 2004)",
    "co_training": "voice and face classifiers label confident clips for each other (Blum & Mitchell 1998)",
}
FEATURES = RANGES["classic_features"]  # prosody, logmel, egemaps


class GMMClassifier(ClassifierMixin, BaseEstimator):
    """One Gaussian mixture per class; the most likely class wins.

    Parameters
    ----------
    n_components : int
        Mixture components per class (fewer where a class has fewer clips).
    covariance_type : str
        ``"diag"``: one variance per feature and component, which a few
        dozen clips per class can estimate.
    reg_covar : float
        Added to every variance: keeps a component from collapsing onto a
        single clip.
    random_state : int or None
        Seed of the k-means initialisation.

    Classes are taken as equally likely a priori, so the decision is
    maximum likelihood, which suits the unweighted accuracy (UA).
    """

    def __init__(self, n_components=2, covariance_type="diag", reg_covar=1e-2, random_state=None):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.random_state = random_state

    def fit(self, X, y):
        """One Gaussian mixture per class, fitted on that class's rows of X (n, d)."""
        X, y = np.asarray(X), np.asarray(y)
        self.classes_ = np.unique(y)
        self.mixtures_ = [GaussianMixture(min(self.n_components, int((y == c).sum())),
                                          covariance_type=self.covariance_type, reg_covar=self.reg_covar,
                                          random_state=self.random_state).fit(X[y == c])
                          for c in self.classes_]
        return self

    def predict_proba(self, X):
        """Posterior of each class under equal priors: softmax of the log-likelihoods."""
        return softmax(np.stack([m.score_samples(X) for m in self.mixtures_], axis=1), axis=1)

    def predict(self, X):
        """The most likely class of each row of X."""
        return self.classes_[self.predict_proba(X).argmax(1)]


def _svm(seed: int, y) -> CalibratedClassifierCV:
    """The shared SVM: RBF kernel, with probabilities from Platt's sigmoid
    (Platt 1999) fitted on cross-validated decision values of labels ``y``."""
    fewest = int(np.unique(y, return_counts=True)[1].min())
    if fewest < 2:
        raise ValueError(f"the SVM's probability calibration needs at least 2 labeled clips per class, "
                         f"got {fewest}; raise n_labeled")
    svm = SVC(C=1.0, kernel="rbf", gamma="scale", class_weight="balanced", random_state=seed)
    return CalibratedClassifierCV(svm, method="sigmoid", cv=min(5, fewest), ensemble=False)


def _face_classifier() -> LogisticRegression:
    """The face view's classifier: regularised logistic regression."""
    return LogisticRegression(C=0.1, max_iter=1000)


def _face_view(Fl, Fu, dim: int = 50):
    """Standardise the HOG vectors and reduce them to ``dim`` whitened
    principal components, fitted on the labeled and unlabeled clips that
    have video (rows of NaN, clips without video, stay NaN)."""
    ok_l, ok_u = np.isfinite(Fl).all(1), np.isfinite(Fu).all(1)
    fit_rows = np.vstack([Fl[ok_l], Fu[ok_u]])
    pca = make_pipeline(StandardScaler(), PCA(min(dim, *fit_rows.shape), whiten=True, random_state=0)).fit(fit_rows)
    reduce = lambda F, ok: np.where(ok[:, None], pca.transform(np.nan_to_num(F)), np.nan)  # noqa: E731
    return reduce(Fl, ok_l), reduce(Fu, ok_u)


def fit_method(method: str, d: dict, seed: int, tcfg) -> tuple[object, dict]:
    """Fit one classic method on the prepared data ``d``; return the fitted
    voice classifier and its parameters (for the run record).

    ``d`` holds standardised voice features ``Xl`` (labeled), ``Xu``
    (unlabeled), labels ``yl``, and for co-training face features ``Fl``, ``Fu``.
    """
    if method == "svm":
        return _svm(seed, d["yl"]).fit(d["Xl"], d["yl"]), {"C": 1.0, "gamma": "scale"}
    if method == "gmm":
        return GMMClassifier(random_state=seed).fit(d["Xl"], d["yl"]), {"n_components": 2, "covariance": "diag"}
    X, y = np.vstack([d["Xl"], d["Xu"]]), np.concatenate([d["yl"], -np.ones(len(d["Xu"]), int)])  # -1: unlabeled
    if method == "self_training":  # k_best: Platt probabilities of 4 classes from few labels rarely pass 0.75
        rule = {"criterion": "k_best", "k_best": max(1, len(d["Xu"]) // 20)} if tcfg.tau is None else \
            {"criterion": "threshold", "threshold": tcfg.tau}
        return SelfTrainingClassifier(_svm(seed, d["yl"]), max_iter=10, **rule).fit(X, y), {**rule, "max_iter": 10}
    if method == "label_spreading":
        return LabelSpreading(kernel="knn", n_neighbors=10, alpha=0.2, max_iter=100).fit(X, y), \
            {"kernel": "knn", "n_neighbors": 10, "alpha": 0.2}
    if method == "co_training":
        return co_train(d["Xl"], d["Fl"], d["yl"], d["Xu"], d["Fu"], seed)
    raise ValueError(f"method={method!r} is not a classic method; choose one of {', '.join(CLASSIC_METHODS)}")


def co_train(Xl, Fl, yl, Xu, Fu, seed: int = 0, rounds: int = 10, per_class: int | None = None):
    """Co-training (Blum & Mitchell 1998) with a voice view ``X`` and a face view ``F``.

    Each round, both classifiers are trained on the labeled clips plus the
    clips labeled so far; then each one, in turn, takes from the unlabeled
    pool the ``per_class`` clips it is most confident belong to each class
    and labels them for both. Rows of ``F`` that are NaN (clips without
    video) are left out of the face classifier and of the pool.

    Returns the final voice classifier and the run's parameters.
    """
    n_classes = len(np.unique(yl))
    pool = np.flatnonzero(np.isfinite(Fu).all(1))
    per_class = per_class or max(1, len(pool) // (4 * rounds * n_classes))  # about half the pool by the end
    added, labels = np.zeros(0, int), np.zeros(0, int)
    lab_face = np.isfinite(Fl).all(1)
    for _ in range(rounds):
        y_all = np.concatenate([yl, labels])
        voice = _svm(seed, yl).fit(np.vstack([Xl, Xu[added]]), y_all)
        face = _face_classifier().fit(np.vstack([Fl[lab_face], Fu[added]]), np.concatenate([yl[lab_face], labels]))
        for clf, V in ((voice, Xu), (face, Fu)):
            if len(pool) == 0:
                break
            P = clf.predict_proba(V[pool])
            for j, c in enumerate(clf.classes_):  # the most confident clips predicted as class c
                mine = np.flatnonzero(P.argmax(1) == j)
                take = mine[np.argsort(-P[mine, j])[:per_class]]
                added, labels = np.append(added, pool[take]), np.append(labels, np.full(len(take), c))
            pool = np.setdiff1d(pool, added)
    voice = _svm(seed, yl).fit(np.vstack([Xl, Xu[added]]), np.concatenate([yl, labels]))
    return voice, {"rounds": rounds, "per_class": per_class, "n_added": int(len(added)),
                   "face": "HOG, PCA, logistic regression"}


def clip_features(clips, features: str = "prosody", tcfg=None, progress: bool = True) -> np.ndarray:
    """One feature vector per clip of a corpus, (N, D), cached on disk.

    ``prosody``: ``sertools.prosody`` (22 cues); ``logmel``: mean and
    standard deviation over time of each log-mel band (the deep methods'
    input, summarised); ``egemaps``: the 88 eGeMAPSv02 functionals computed
    by openSMILE (Eyben et al. 2016), an optional extra.
    """
    from .corpora import corpus_key
    if features == "prosody":
        from .prosody import feature_table
        return feature_table(clips.waves, clips.sr, progress=progress, key=corpus_key(clips)).to_numpy()
    if features == "logmel":
        from .audio import classic_logmel_config, corpus_features
        feats = corpus_features(clips, classic_logmel_config(tcfg), key=corpus_key(clips))
        return np.stack([np.concatenate([f.mean(0).numpy(), f.std(0).numpy()]) for f in feats])
    if features == "egemaps":
        from .prosody import feature_table
        return feature_table(clips.waves, clips.sr, progress=progress, key=corpus_key(clips), kind="egemaps").to_numpy()
    raise ValueError(f"features={features!r} is not known; choose one of {', '.join(FEATURES)}")


def face_features(frames, size: int = 64) -> np.ndarray:
    """HOG (Dalal & Triggs 2005) of each clip's mean grayscale video frame, (N, 1764).

    Averaging the frames blurs the talking mouth and keeps what stays put
    over the clip: the brows, eyes and lip corners that carry the expression
    (docs/emotion-cues.md, face). Clips without video get a row of NaN.
    """
    import cv2
    hog = cv2.HOGDescriptor((size, size), (16, 16), (8, 8), (8, 8), 9)
    rows = []
    for f in frames:
        if f is None:
            rows.append(None)
            continue
        gray = cv2.cvtColor(np.asarray(f).mean(0).astype(np.uint8), cv2.COLOR_RGB2GRAY)
        rows.append(hog.compute(cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA)).ravel())
    dim = next(len(r) for r in rows if r is not None)
    return np.stack([np.full(dim, np.nan, np.float32) if r is None else r for r in rows])


def run(method: str, preset: str | None = None, corpus: str = "builtin", progress: bool = True,
        features: str | None = None, **overrides) -> RunRecord:
    """Train and test one classic method on the deep methods' splits.

    Parameters
    ----------
    method : str
        One of ``CLASSIC_METHODS``.
    preset : str, optional
        ``quick``, ``default`` or ``full`` (default: ``SERTOOLS_PRESET``).
    corpus : str
        ``builtin`` or a real corpus, as for ``sertools.experiment.run``.
    progress : bool
        Show progress bars while features are computed.
    features : str, optional
        The config's ``classic_features`` unless given (CLI: ``--features``):
        ``prosody`` (default, ``sertools.prosody``), ``logmel`` (mean and
        standard deviation of the log-mel bands) or ``egemaps`` (openSMILE's
        eGeMAPSv02, needs ``pip install sertools[egemaps]``).
    **overrides
        Any field of the preset's CorpusConfig or TrainConfig (``seed``,
        ``n_labeled``, ``tau`` for self-training's threshold, ...); unknown
        keys raise ``ConfigError``.

    Returns
    -------
    RunRecord
        Test metrics (and ``best_val_ua``, the validation UA), labels,
        predictions and probabilities, and as embeddings the standardised
        features of the test clips (for t-SNE). ``history`` is empty: these
        methods have no training curve. ``seconds`` counts fitting and
        prediction; features are computed once per corpus and cached.
        ``predictions``: per test clip (and ``test_b`` clip, where the views
        have that split) its id, speaker, labels and probabilities.

    Examples
    --------
    >>> rec = run("svm", preset="quick", progress=False)  # doctest: +SKIP
    >>> round(rec.metrics["ua"])  # doctest: +SKIP
    """
    from .experiment import get_clips, get_views
    ccfg, tcfg = get_config(preset, **overrides)
    features = features or tcfg.classic_features
    _check(method, features)
    clips = get_clips(corpus, ccfg, progress=progress)
    if method == "co_training" and not clips.has_video:
        raise ValueError(f"co_training needs videos: corpus {corpus!r} has no video frames; it trains a face "
                         f"classifier beside the voice one. Use a corpus with videos or another method "
                         f"({', '.join(m for m in CLASSIC_METHODS if m != 'co_training')})")
    views = get_views(corpus, ccfg, tcfg)  # the same labeled subset and splits as the deep methods
    X = clip_features(clips, features, tcfg, progress)
    Z = np.nan_to_num(StandardScaler().fit(X[clips.indices("train")]).transform(X))  # training pool's statistics
    n = views.meta["n_labeled"]  # the labeled clips themselves, without re-recorded copies (channel_copies)
    lab_rows = views.labeled.rows[:n]
    d = {"Xl": Z[lab_rows], "yl": views.labeled.y[:n].numpy(), "Xu": Z[views.unlabeled.rows]}

    t0 = time.perf_counter()
    with threadpool_limits(1):  # problems this small run faster on one BLAS thread than on several
        if method == "co_training":
            F = face_features(clips.frames)
            d["Fl"], d["Fu"] = _face_view(F[lab_rows], F[views.unlabeled.rows])
        clf, params = fit_method(method, d, tcfg.seed, tcfg)
        probs = _probs(clf, Z[views.test.rows], views.n_classes)
        val_probs = _probs(clf, Z[views.val.rows], views.n_classes)
        frames = [prediction_frame("test", views.test.y.numpy(), probs, views.classes, views.test.rows)]
        test_b = getattr(views, "test_b", None)  # a second held-out split, where the views have one
        if test_b is not None and len(test_b):
            frames.append(prediction_frame("test_b", test_b.y.numpy(), _probs(clf, Z[test_b.rows], views.n_classes),
                                           views.classes, test_b.rows))
    y_true, y_pred = views.test.y.numpy(), probs.argmax(1)
    metrics = evaluate(y_true, y_pred, views.n_classes)
    metrics["best_val_ua"] = evaluate(views.val.y.numpy(), val_probs.argmax(1), views.n_classes)["ua"]
    config = {**asdict(tcfg), "features": features, **{f"method.{k}": v for k, v in params.items()},
              "corpus": corpus, "corpus_config": config_hash(ccfg), "preset": preset}
    return RunRecord(method, config, history=[], metrics=metrics, y_true=y_true, y_pred=y_pred, probs=probs,
                     embeddings=Z[views.test.rows].astype(np.float32), classes=tuple(views.classes),
                     seconds=time.perf_counter() - t0,
                     predictions=with_clip_info(pd.concat(frames, ignore_index=True), clips.table))


def _check(method: str, features: str) -> None:
    """Refuse an unknown method or feature set before any work is done."""
    if method not in CLASSIC_METHODS:
        raise ValueError(f"method={method!r} is not a classic method; choose one of {', '.join(CLASSIC_METHODS)}")
    if features not in FEATURES:
        raise ValueError(f"features={features!r} is not known; choose one of {', '.join(FEATURES)}")
    if features == "egemaps":
        from .prosody import opensmile_module
        opensmile_module()  # raises, saying how to install it, when the optional package is missing


def _probs(clf, X, n_classes: int) -> np.ndarray:
    """Class probabilities (N, n_classes), with a zero column for any class
    the classifier never saw."""
    P = np.zeros((len(X), n_classes))
    P[:, clf.classes_] = clf.predict_proba(X)
    return P
