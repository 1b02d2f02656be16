"""Plots the lessons and the comparison use (matplotlib).

Each function draws one picture from a run record, a corpus clip or a
results table, and returns the matplotlib Figure so a notebook can show it
and the CLI can save it.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

if matplotlib.get_backend().lower() not in ("module://matplotlib_inline.backend_inline", "inline", "nbagg", "widget",
                                             "ipympl", "module://ipympl.backend_nbagg"):
    matplotlib.use("Agg")  # headless (CLI, CI); notebooks keep their inline backend
import matplotlib.pyplot as plt
import numpy as np

from .metrics import confusion

MAIN_COLOURS = {"Supervised": "0.5", "Semi-supervised": "tab:blue", "Direct cross-modal transfer": "tab:orange",
                "SSL and CMKT": "tab:green", "Classic (handcrafted features)": "tab:purple"}


def _group_of(method: str) -> str:
    from .results import _groups
    return next((g for g, ms in _groups().items() if method in ms), "Supervised")


def waveform_and_spectrogram(wave: np.ndarray, sr: int = 16000, features=None, title: str = ""):
    """The waveform above its log-mel spectrogram, on the same time axis."""
    from .audio import FeatureExtractor
    import torch
    ext = features or FeatureExtractor()
    S = ext(torch.from_numpy(np.asarray(wave, np.float32))).numpy().T
    fig, ax = plt.subplots(2, 1, figsize=(8, 4), sharex=True, gridspec_kw={"height_ratios": [1, 2]})
    t = np.arange(len(wave)) / sr
    ax[0].plot(t, wave, lw=0.5)
    ax[0].set_ylabel("amplitude")
    ax[0].set_title(title)
    ax[1].imshow(S, origin="lower", aspect="auto", extent=[0, len(wave) / sr, 0, S.shape[0]], cmap="magma")
    ax[1].set_ylabel(f"{ext.kind} bin")
    ax[1].set_xlabel("time (s)")
    fig.tight_layout()
    return fig


def feature_image(x, ax=None, title: str = ""):
    """A (T, F) feature tensor as an image, frequency upward."""
    x = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x)
    ax = ax or plt.subplots(figsize=(6, 2.5))[1]
    ax.imshow(x.T, origin="lower", aspect="auto", cmap="magma")
    ax.set_title(title)
    ax.set_xlabel("frame")
    ax.set_ylabel("bin")
    return ax.figure


def face_strip(frames: np.ndarray, title: str = "", labels=None):
    """Video frames side by side."""
    n = len(frames)
    fig, axes = plt.subplots(1, n, figsize=(1.3 * n, 1.6))
    for i, ax in enumerate(np.atleast_1d(axes)):
        ax.imshow(frames[i])
        ax.axis("off")
        if labels is not None:
            ax.set_title(labels[i], fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def training_curves(records, keys=("loss", "val_ua", "mask_rate", "pl_acc")):
    """History of one or several runs: loss, validation UA, mask rate, pseudo-label accuracy."""
    records = records if isinstance(records, (list, tuple)) else [records]
    keys = [k for k in keys if any(k in h for r in records for h in r.history)]
    fig, axes = plt.subplots(1, len(keys), figsize=(3.4 * len(keys), 2.8))
    for ax, k in zip(np.atleast_1d(axes), keys):
        for r in records:
            steps = [h["step"] for h in r.history if k in h]
            ax.plot(steps, [h[k] for h in r.history if k in h], marker=".", label=r.method)
        ax.set_title(k)
        ax.set_xlabel("step")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def confusion_plot(record, ax=None, title: str | None = None):
    """Row-normalised confusion matrix of a run's test predictions, class names on the axes."""
    C = confusion(record.y_true, record.y_pred, len(record.classes))
    ax = ax or plt.subplots(figsize=(3.6, 3.2))[1]
    ax.imshow(C, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(C)):
        for j in range(len(C)):
            ax.text(j, i, f"{C[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if C[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(C)), record.classes, rotation=45)
    ax.set_yticks(range(len(C)), record.classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or f"{record.method}: UA {record.metrics['ua']:.1f} %")
    ax.figure.tight_layout()
    return ax.figure


def project(emb: np.ndarray, how: str = "tsne", seed: int = 0) -> np.ndarray:
    """2-D projection of embeddings: t-SNE (scikit-learn) or UMAP (umap-learn)."""
    if how == "tsne":
        from sklearn.manifold import TSNE
        return TSNE(2, init="pca", perplexity=min(30, len(emb) - 1), random_state=seed).fit_transform(emb)
    if how == "umap":
        import umap
        return umap.UMAP(n_components=2, random_state=seed, n_jobs=1).fit_transform(emb)
    raise ValueError(f"how={how!r}: choose tsne or umap")


def embedding_grid(records, how: str = "tsne"):
    """Test-set embeddings of several runs, projected to 2-D and coloured by true class."""
    records = [r for r in records if r.embeddings is not None]
    fig, axes = plt.subplots(1, len(records), figsize=(3.6 * len(records), 3.4), squeeze=False)
    for ax, r in zip(axes[0], records):
        xy = project(r.embeddings, how)
        for c, name in enumerate(r.classes):
            m = r.y_true == c
            ax.scatter(xy[m, 0], xy[m, 1], s=6, label=name)
        ax.set_title(f"{r.method} ({how}), UA {r.metrics['ua']:.1f}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0][0].legend(fontsize=7, markerscale=2)
    fig.tight_layout()
    return fig


def metric_bars(df, metrics=("ua", "f1")):
    """Mean UA and F1 per method with error bars (std over seeds), coloured by group."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 3.6))
    for ax, k in zip(np.atleast_1d(axes), metrics):
        colours = [MAIN_COLOURS[_group_of(m)] for m in df["method"]]
        ax.bar(range(len(df)), df[k], yerr=df[f"{k}_std"], color=colours, capsize=3)
        ax.set_xticks(range(len(df)), df["method"], rotation=60, ha="right", fontsize=8)
        ax.set_ylabel(f"{k.upper()} (%)")
        if "supervised" in set(df["method"]):
            ax.axhline(float(df.loc[df.method == "supervised", k].iloc[0]), color="0.3", ls="--", lw=1)
        lo = max(0.0, float((df[k] - df[f"{k}_std"]).min()) - 5)
        ax.set_ylim(lo, min(100.0, float((df[k] + df[f"{k}_std"]).max()) + 5))
    fig.tight_layout()
    return fig


def budget_curve(curve):
    """UA against the number of labeled clips per class, one line per method.

    ``curve`` is a DataFrame with columns method, n_labeled, ua, ua_std.
    """
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for m, d in curve.groupby("method", sort=False):
        ax.errorbar(d["n_labeled"], d["ua"], yerr=d.get("ua_std"), marker="o", capsize=3, label=m)
    ax.set_xscale("log")
    ax.set_xlabel("labeled clips per class")
    ax.set_ylabel("UA (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def save_comparison_plots(done: dict, out) -> list[Path]:
    """The comparison's PNGs: metric bars and the embedding grid."""
    from .results import summarize
    out = Path(out)
    paths = []
    fig = metric_bars(summarize(done))
    paths.append(out / "metrics.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    picks = [m for m in _best_per_group(done)]
    if picks:
        fig = embedding_grid([done[m][0] for m in picks])
        paths.append(out / "embeddings.png")
        fig.savefig(paths[-1], dpi=120)
        plt.close(fig)
    return paths


def _best_per_group(done: dict) -> list[str]:
    """supervised, the best semi-supervised method and the best combined one (by mean UA)."""
    from .methods import GROUPS
    ua = {m: np.mean([r.metrics["ua"] for r in recs]) for m, recs in done.items()}
    picks = ["supervised"] if "supervised" in done else []
    for g in ("Semi-supervised", "SSL and CMKT"):
        cands = [m for m in GROUPS[g] if m in done]
        if cands:
            picks.append(max(cands, key=ua.get))
    return picks
