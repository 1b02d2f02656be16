"""An outside judge of a corpus's difficulty: openSMILE's eGeMAPS and an SVM, speaker-independent.

The built-in corpus is calibrated against judges that are not the kit's own
models, so that no method's result can leak into the world it is measured
on (docs/emotion-cues.md, "A world as hard as real speech"). This module
imports nothing from the rest of sertools: it reads a corpus folder as
``sertools corpus --out DIR`` writes it (``audio/<clip_id>.wav`` and
``labels.csv``), or any folder of that layout, and scores it the way the
field's baselines are reported:

- features: the 88 eGeMAPSv02 functionals (Eyben et al. 2016), computed by
  openSMILE (audEERING's ``opensmile`` package);
- classifier: scikit-learn's ``SVC`` (RBF kernel, C = 1, balanced class
  weights) after a per-fold standard scaling;
- protocol: every labeled clip (splits ``train``, ``val``, ``test``),
  5 folds by speaker (``GroupKFold``), so no test speaker is seen in
  training: the speaker-independent protocol of IEMOCAP's leave-one-session-
  out results;
- scores: UA (unweighted accuracy, the mean of the per-class recalls,
  ``balanced_accuracy_score``), WA (accuracy) and the confusion matrix
  (rows: label, columns: prediction; percent of each row).

``python -m sertools.judge DIR`` prints them. For IEMOCAP-like 4-class
corpora, speaker-independent eGeMAPS + SVM results in the literature lie
roughly between 50 and 65 % UA; for acted corpora like RAVDESS they are
higher.

Reference: Eyben, F., Scherer, K. R., Schuller, B. W., et al. (2016). The
Geneva Minimalistic Acoustic Parameter Set (GeMAPS) for voice research and
affective computing. IEEE Transactions on Affective Computing, 7(2), 190-202.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

LABELED = ("train", "val", "test")


def egemaps(waves, sr: int = 16000) -> pd.DataFrame:
    """The 88 eGeMAPSv02 functionals of each wave (rows in the waves' order)."""
    import opensmile
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                            feature_level=opensmile.FeatureLevel.Functionals)
    return pd.concat([smile.process_signal(np.asarray(w, np.float32), sr) for w in waves], ignore_index=True)


def judge(X, y, groups, folds: int = 5, seed: int = 0) -> dict:
    """Speaker-independent cross-validation of the eGeMAPS SVM.

    ``X``: (n, 88) features; ``y``: class names; ``groups``: speakers.
    Returns ua, wa (percent), the per-fold UA, and the confusion matrix in
    percent of each true class (a DataFrame, classes in sorted order).
    """
    from sklearn.metrics import balanced_accuracy_score, confusion_matrix
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    X, y, groups = np.asarray(X, float), np.asarray(y), np.asarray(groups)
    pred = np.empty_like(y)
    per_fold = []
    for tr, te in GroupKFold(n_splits=min(folds, len(set(groups)))).split(X, y, groups):
        clf = make_pipeline(StandardScaler(), SVC(C=1.0, kernel="rbf", class_weight="balanced", random_state=seed))
        clf.fit(X[tr], y[tr])
        pred[te] = clf.predict(X[te])
        per_fold.append(100 * balanced_accuracy_score(y[te], pred[te]))
    classes = sorted(set(y))
    cm = confusion_matrix(y, pred, labels=classes).astype(float)
    cm = pd.DataFrame(100 * cm / cm.sum(1, keepdims=True), index=classes, columns=classes)
    return {"ua": 100 * balanced_accuracy_score(y, pred), "wa": 100 * float(np.mean(pred == y)),
            "ua_per_fold": per_fold, "confusion": cm, "n": len(y)}


def largest_confusions(cm: pd.DataFrame, k: int = 3) -> list[tuple[str, str, float]]:
    """The ``k`` largest off-diagonal cells of a row-normalised confusion matrix,
    symmetrised (a-b and b-a averaged), as (class, class, percent)."""
    pairs = []
    names = list(cm.index)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            pairs.append((a, b, (cm.loc[a, b] + cm.loc[b, a]) / 2))
    return sorted(pairs, key=lambda p: -p[2])[:k]


def read_folder(root) -> tuple[pd.DataFrame, list]:
    """labels.csv's labeled rows (splits train, val, test with an emotion) and their waves."""
    import soundfile as sf
    root = Path(root)
    t = pd.read_csv(root / "labels.csv", dtype=str, keep_default_na=False)
    t = t[t.split.isin(LABELED) & (t.emotion != "")].reset_index(drop=True)
    waves = [sf.read(root / "audio" / f"{c}.wav", dtype="float32")[0] for c in t.clip_id]
    return t, waves


def main(argv=None) -> int:
    """``python -m sertools.judge DIR``: print the judge's UA, WA and confusions for a corpus folder."""
    p = argparse.ArgumentParser(prog="python -m sertools.judge", description=__doc__.splitlines()[0])
    p.add_argument("folder", help="a corpus folder: audio/<clip_id>.wav and labels.csv (sertools corpus --out)")
    p.add_argument("--folds", type=int, default=5)
    a = p.parse_args(argv)
    if not (Path(a.folder) / "labels.csv").is_file():
        print(f"error: {a.folder}/labels.csv is missing; write a corpus with `sertools corpus --out {a.folder}`",
              file=sys.stderr)
        return 2
    t, waves = read_folder(a.folder)
    res = judge(egemaps(waves).to_numpy(), t.emotion.to_numpy(), t.speaker.to_numpy(), folds=a.folds)
    print(f"eGeMAPS + SVM, {res['n']} labeled clips, {a.folds} folds by speaker: UA {res['ua']:.1f} %, "
          f"WA {res['wa']:.1f} % (per fold: {', '.join(f'{u:.1f}' for u in res['ua_per_fold'])})")
    print("confusions (% of each true class):")
    print(res["confusion"].round(1).to_string())
    print("largest confusions:", "; ".join(f"{a}-{b} {v:.1f} %" for a, b, v in largest_confusions(res["confusion"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
