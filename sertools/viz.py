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
from .reports import fusion_knob

MAIN_COLOURS = {"Supervised": "0.5", "Semi-supervised": "tab:blue", "Direct cross-modal transfer": "tab:orange",
                "SSL and CMKT": "tab:green", "Classic (handcrafted features)": "tab:purple"}


def _group_of(method: str) -> str:
    from .store import method_groups
    return next((g for g, ms in method_groups().items() if method in ms), "Supervised")


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


def scatter_by_class(ax, xy, record, title: str):
    """2-D points of a run's test clips, one colour per true class."""
    for c, name in enumerate(record.classes):
        m = record.y_true == c
        ax.scatter(xy[m, 0], xy[m, 1], s=6, label=name)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def embedding_grid(records, how: str = "tsne"):
    """Test-set embeddings of several runs, projected to 2-D and coloured by true class."""
    records = [r for r in records if r.embeddings is not None]
    fig, axes = plt.subplots(1, len(records), figsize=(3.6 * len(records), 3.4), squeeze=False)
    for ax, r in zip(axes[0], records):
        scatter_by_class(ax, project(r.embeddings, how), r, f"{r.method} ({how}), UA {r.metrics['ua']:.1f}")
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


def budget_curve(curve, ceiling=None):
    """UA against the number of labeled clips per class, one line per method:
    the mean over seeds, and a shaded band for its 95 % interval where the
    curve has one (``ua_ci95``, from ``results.curve_table``; with one seed, the
    line alone). ``ceiling``: (mean UA, 95 % half-width, label) of the
    all-label ceiling, drawn as a horizontal line with its own band.
    """
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for m, d in curve.groupby("method", sort=False):
        d = d.sort_values("n_labeled")
        line, = ax.plot(d["n_labeled"], d["ua"], marker="o", label=m)
        if "ua_ci95" in d and np.isfinite(d["ua_ci95"].astype(float)).any():
            half = d["ua_ci95"].astype(float).fillna(0)
            ax.fill_between(d["n_labeled"], d["ua"] - half, d["ua"] + half, color=line.get_color(), alpha=0.15, lw=0)
    if ceiling is not None and np.isfinite(ceiling[0]):
        mean, half, label = ceiling
        ax.axhline(mean, color="0.2", ls="--", lw=1, label=label)
        if np.isfinite(half):
            ax.axhspan(mean - half, mean + half, color="0.5", alpha=0.12, lw=0)
    ax.set_xscale("log")
    ticks = sorted(set(curve["n_labeled"]))
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("labeled clips per class")
    seeds = int(curve["seeds"].min()) if "seeds" in curve and len(curve) else 0
    ax.set_ylabel("test UA (%)" + (f", mean of {seeds} seeds, 95 % CI" if seeds > 1 else ""))
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def ceiling_of(table):
    """(mean UA, 95 % half-width, label) of a comparison table's ceiling row, or None."""
    from .results import CEILING
    if table is None or "method" not in table or CEILING not in set(table["method"]):
        return None
    r = table.set_index("method").loc[CEILING]
    steps = r.get("steps_run", np.nan)
    return (float(r["ua"]), float(r.get("ua_ci95", np.nan)),
            "all labels" + (f" ({steps:.0f} steps, mean)" if np.isfinite(steps) else ""))


def save_comparison_plots(comparison) -> list[Path]:
    """The comparison's PNGs, beside its tables: metrics.png (``metric_bars``),
    embeddings.png (``embedding_grid`` of ``best_per_group``) and, with a
    budget curve, budget.png (``budget_curve``, with the ceiling row's line). ``comparison`` is ``results.run_comparison``'s
    result; returns the paths written."""
    out, done = Path(comparison.out), comparison.records
    figures = {}
    if done:
        figures["metrics.png"] = metric_bars(comparison.table[comparison.table["method"].isin(list(done))])
        if picks := best_per_group(done):
            figures["embeddings.png"] = embedding_grid([done[m][0] for m in picks])
    if comparison.curve is not None and len(comparison.curve):
        figures["budget.png"] = budget_curve(comparison.curve, ceiling_of(comparison.table))
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=120)
        plt.close(fig)
    return [out / name for name in figures]


def best_per_group(done: dict) -> list[str]:
    """The runs worth a picture: supervised, the best semi-supervised method
    and the best combined one (by mean test UA). ``done``: {method: [RunRecord]}."""
    from .methods import GROUPS
    ua = {m: np.mean([r.metrics["ua"] for r in recs]) for m, recs in done.items()}
    picks = ["supervised"] if "supervised" in done else []
    for g in ("Semi-supervised", "SSL and CMKT"):
        cands = [m for m in GROUPS[g] if m in done]
        if cands:
            picks.append(max(cands, key=ua.get))
    return picks


# --- lessons 00-02 (corpus, spectrograms, baseline) ---

def face_animation(frames: np.ndarray, fps: float = 4.0, size: float = 1.6, title: str = ""):
    """A clip's face frames as a small looping animation (HTML for a notebook).

    Uses ``matplotlib.animation`` and ``to_jshtml``, so it plays offline in
    Jupyter and in an executed notebook; ``size`` is the figure side in inches.
    """
    from IPython.display import HTML
    from matplotlib import animation
    fig, ax = plt.subplots(figsize=(size, size), dpi=64)
    img = ax.imshow(frames[0])
    ax.set_title(title, fontsize=8)
    ax.axis("off")
    fig.tight_layout()
    anim = animation.FuncAnimation(fig, lambda i: [img.set_data(frames[i])], frames=len(frames),
                                   interval=1000 / fps)
    html = HTML(anim.to_jshtml(default_mode="loop"))
    plt.close(fig)  # only the animation is shown, not a still copy
    return html


def clips_side_by_side(waves, titles, sr: int = 16000, features=None):
    """Several clips in columns: the waveform above its log-mel spectrogram.

    Waveforms share one amplitude scale, so loudness differences are visible.
    """
    from .audio import FeatureExtractor
    import torch
    ext = features or FeatureExtractor(sr=sr)
    fig, axes = plt.subplots(2, len(waves), figsize=(2.7 * len(waves), 3.6), squeeze=False,
                             gridspec_kw={"height_ratios": [1, 2]}, sharey="row")
    for j, (w, title) in enumerate(zip(waves, titles)):
        S = ext(torch.from_numpy(np.asarray(w, np.float32))).numpy().T
        axes[0, j].plot(np.arange(len(w)) / sr, w, lw=0.4)
        axes[0, j].set_title(title, fontsize=9)
        axes[1, j].imshow(S, origin="lower", aspect="auto", extent=[0, len(w) / sr, 0, S.shape[0]],
                          cmap="magma", vmin=-12, vmax=S.max())
        axes[1, j].set_xlabel("time (s)")
    axes[0, 0].set_ylabel("amplitude")
    axes[1, 0].set_ylabel("mel band")
    fig.tight_layout()
    return fig


def cue_bars(table, per_row: int = 4):
    """``cue_table`` as bars: measured (filled) and asked (outlined) per emotion, ``per_row`` cues a row."""
    cues = list(dict.fromkeys(c for c, _ in table.columns))
    rows = -(-len(cues) // per_row)
    cols = min(per_row, len(cues))
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.8 * rows), squeeze=False)
    x = np.arange(len(table))
    for ax in axes.flat[len(cues):]:
        ax.axis("off")
    for ax, c in zip(axes.flat, cues):
        ax.bar(x - 0.2, table[(c, "measured")], 0.4, label="measured")
        ax.bar(x + 0.2, table[(c, "asked")], 0.4, fill=False, edgecolor="k", label="asked")
        ax.set_xticks(x, table.index, rotation=45)
        ax.set_title(c, fontsize=9)
        if "x neutral" in c:  # ratios: start the axis near 1 so the differences show
            ax.set_ylim(min(0.8, float(np.nanmin(table[c].to_numpy())) - 0.05),
                        max(1.1, float(np.nanmax(table[c].to_numpy())) + 0.05))
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def framing_plot(wave: np.ndarray, sr: int = 16000, win_ms: float = 25.0, hop_ms: float = 10.0,
                 start_s: float | None = None, n_show: int = 4):
    """From waveform to frames: overlapping windows, one windowed frame, its spectrum.

    start_s : where to look (default: the loudest point, a vowel)
    """
    win, hop = int(sr * win_ms / 1000), int(sr * hop_ms / 1000)
    if start_s is None:
        energy = np.convolve(np.asarray(wave) ** 2, np.ones(win), "valid")
        start_s = max(0.0, (int(energy.argmax()) - hop) / sr)
    i0 = int(start_s * sr)
    seg = wave[i0:i0 + win + (n_show - 1) * hop]
    hann = np.hanning(win)
    fig, ax = plt.subplots(1, 3, figsize=(12, 2.8))
    t = 1000 * np.arange(len(seg)) / sr
    ax[0].plot(t, seg, lw=0.7, color="0.4")
    for k in range(n_show):
        ax[0].plot(1000 * (k * hop + np.arange(win)) / sr, hann * np.abs(seg).max(), lw=1.2)
    ax[0].set_title(f"{n_show} frames: {win_ms:g} ms windows every {hop_ms:g} ms", fontsize=9)
    ax[0].set_xlabel("time (ms)")
    frame = seg[:win] * hann
    ax[1].plot(1000 * np.arange(win) / sr, seg[:win], lw=0.6, color="0.6", label="frame")
    ax[1].plot(1000 * np.arange(win) / sr, frame, lw=0.9, label="x Hann window")
    ax[1].legend(fontsize=7)
    ax[1].set_title("one frame, windowed", fontsize=9)
    ax[1].set_xlabel("time (ms)")
    n_fft = int(2 ** np.ceil(np.log2(win)))
    spec = 20 * np.log10(np.abs(np.fft.rfft(frame, n_fft)) + 1e-8)
    ax[2].plot(np.fft.rfftfreq(n_fft, 1 / sr), spec, lw=0.8)
    ax[2].set_xlim(0, 4000)
    ax[2].set_title("its magnitude spectrum (one STFT column)", fontsize=9)
    ax[2].set_xlabel("frequency (Hz)")
    ax[2].set_ylabel("dB")
    fig.tight_layout()
    return fig


def stft_image(wave: np.ndarray, sr: int = 16000, win_ms: float = 25.0, hop_ms: float = 10.0,
               n_fft: int = 512, fmax: float = 4000.0, ax=None):
    """Log-power STFT (dB) with time in seconds and frequency in Hz.

    ``n_fft`` below the window length is raised to it (torch.stft needs
    win_length <= n_fft); the title says what was used and what it resolves.
    """
    import torch
    win, hop = int(sr * win_ms / 1000), max(1, int(sr * hop_ms / 1000))
    n_fft = max(n_fft, win)
    X = torch.stft(torch.as_tensor(np.asarray(wave, np.float32)), n_fft, hop, win, torch.hann_window(win),
                   return_complex=True)
    S = 10 * torch.log10(X.abs() ** 2 + 1e-10).numpy()
    ax = ax or plt.subplots(figsize=(5, 2.8))[1]
    ax.imshow(S, origin="lower", aspect="auto", cmap="magma", vmin=S.max() - 70, vmax=S.max(),
              extent=[0, len(wave) / sr, 0, sr / 2])
    ax.set_ylim(0, fmax)
    ax.set_title(f"STFT: window {win_ms:g} ms, hop {hop_ms:g} ms, n_fft {n_fft}\n"
                 f"{S.shape[1]} frames, bins every {sr / n_fft:.0f} Hz, resolves ~{2000 / win_ms:.0f} Hz", fontsize=8)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    return ax.figure


def mel_filterbank_plot(n_fft: int = 400, n_mels: int = 40, sr: int = 16000):
    """The triangular mel filters (torchaudio.functional.melscale_fbanks) and the mel scale."""
    import torchaudio
    fb = torchaudio.functional.melscale_fbanks(n_fft // 2 + 1, 0.0, sr / 2, n_mels, sr).numpy()
    f = np.linspace(0, sr / 2, n_fft // 2 + 1)
    fig, ax = plt.subplots(1, 2, figsize=(11, 2.8), gridspec_kw={"width_ratios": [2.2, 1]})
    ax[0].plot(f, fb, lw=0.8)
    ax[0].set_title(f"{n_mels} mel filters over {n_fft // 2 + 1} STFT bins", fontsize=9)
    ax[0].set_xlabel("frequency (Hz)")
    ax[0].set_ylabel("weight")
    ax[1].plot(f, 2595 * np.log10(1 + f / 700))
    ax[1].set_title("mel(f) = 2595 log10(1 + f/700)", fontsize=9)
    ax[1].set_xlabel("frequency (Hz)")
    ax[1].set_ylabel("mel")
    fig.tight_layout()
    return fig


def augment_before_after(batch, augs: dict, n: int = 3, seed: int = 0):
    """Rows: clips of a ``Padded`` batch; columns: original, then each augmentation.

    augs : name -> callable on the whole batch (``WeakAugment()``, ``SpecAugment()``)
    All panels share one colour scale (normalised features: 0 is the corpus mean).
    """
    import torch
    torch.manual_seed(seed)
    views = {"original": batch.x} | {k: a(batch).x for k, a in augs.items()}
    fig, axes = plt.subplots(n, len(views), figsize=(3.3 * len(views), 1.8 * n), squeeze=False)
    for i in range(n):
        T = int(batch.mask[i].sum())
        for j, (name, x) in enumerate(views.items()):
            axes[i, j].imshow(x[i, :T].T.numpy(), origin="lower", aspect="auto", cmap="magma", vmin=-3, vmax=3)
            axes[i, j].set_title(name if i == 0 else "", fontsize=9)
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
    fig.supxlabel("frame")
    fig.supylabel("mel band")
    fig.tight_layout()
    return fig


# --- lessons 04-07 (semi-supervised methods) ---


def ssl_curves(rec, baseline=None):
    """One semi-supervised run over training, in three panels.

    Left: validation UA (labeled domain A) beside the baseline's. Middle: the
    weight of the unlabeled term (the ramp-up). Right: the targets on the
    unlabeled clips (domain B): the mask rate (share of clips in the loss),
    the accuracy of the kept targets (argmax of the pseudo-label or
    consistency target, scored against the true labels that the built-in
    corpus knows, for logging only), the same model's accuracy on domain A's
    validation clips, and chance. History rows average the steps since the
    previous evaluation.
    """
    col = lambda r, k: np.array([h.get(k, np.nan) for h in r.history], float)  # noqa: E731
    steps = col(rec, "step")
    fig, ax = plt.subplots(1, 3, figsize=(12, 3.0))
    for r in ([baseline] if baseline is not None else []) + [rec]:
        ax[0].plot(col(r, "step"), col(r, "val_ua"), marker=".", label=r.method)
    ax[0].set(title="validation UA (%), domain A", xlabel="step")
    ax[0].legend(fontsize=7)
    ax[1].plot(steps, col(rec, "w_u"), marker=".", color="tab:purple")
    ax[1].set(title=r"weight of the unlabeled term $\lambda_u w(t)$", xlabel="step")
    a = ax[2]
    a.plot(steps, col(rec, "mask_rate"), marker="s", label="mask rate (share kept)")
    a.plot(steps, col(rec, "pl_acc"), marker="o", label="target accuracy, kept clips (B)")
    a.plot(steps, col(rec, "val_wa") / 100, ls="--", label="model accuracy, validation (A)")
    a.axhline(1 / len(rec.classes), color="0.5", ls=":", label="chance")
    if not np.isfinite(col(rec, "pl_acc")).any():
        a.text(0.5, 0.55, "no clip kept:\nno target to score", transform=a.transAxes, ha="center", fontsize=8)
    a.set(ylim=(-0.03, 1.03), title=f"{rec.method}: targets on unlabeled clips", xlabel="step")
    a.legend(fontsize=6.5, loc="best")
    fig.tight_layout()
    return fig


# --- lessons 08-09 (cross-modal transfer, combined method) ---

def teacher_curve(teacher: dict, n_classes: int):
    """The face teacher's frame accuracy on held-out identities after each
    epoch (``teacher.train_teacher(...)["history"]``), with chance."""
    h = teacher["history"]
    fig, ax = plt.subplots(figsize=(4.6, 3.0))
    ax.plot(range(1, len(h) + 1), h, marker="o", label="held-out identities")
    ax.axhline(100 / n_classes, color="0.5", ls=":", label="chance")
    ax.set(xlabel="epoch", ylabel="frame accuracy (%)", ylim=(0, 100),
           title=f"face teacher: {h[-1]:.1f} % after {len(h)} epochs")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def face_prediction_grid(images, pred, labels, classes, n: int = 8, seed: int = 0):
    """Faces the teacher gets right (top row, green) and wrong (bottom row,
    red), each titled with the predicted class and the true one.

    images : uint8 (N, H, W, 3), e.g. the held-out identities of
        ``synth.corpus.face_image_set``; pred, labels : (N,) predicted and
        true class indices (``teacher.predict_logits(model, images).argmax(1)``).
    """
    labels, pred = np.asarray(labels), np.asarray(pred)
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(2, n, figsize=(1.2 * n, 3.2), squeeze=False)
    for r, (idx, colour) in enumerate(((np.flatnonzero(pred == labels), "tab:green"),
                                       (np.flatnonzero(pred != labels), "tab:red"))):
        pick = rng.choice(idx, min(n, len(idx)), replace=False) if len(idx) else []
        for j, ax in enumerate(axes[r]):
            ax.axis("off")
            if j < len(pick):
                ax.imshow(images[pick[j]])
                ax.set_title(f"{classes[pred[pick[j]]]}\n(true: {classes[labels[pick[j]]]})", fontsize=7, color=colour)
    fig.suptitle(f"top: right, bottom: wrong ({np.mean(pred == labels):.0%} of {len(labels)} faces right)", fontsize=9)
    fig.tight_layout()
    return fig


def face_distributions(images, probs, classes, titles=None):
    """Each face above the bar chart of a teacher's distribution for it.

    images : uint8 (n, H, W, 3) RGB or (n, H, W) gray; probs : (n, C)
    probabilities; classes : the C class names (e.g. ``fer2013.FER_CLASSES``).
    The top class is highlighted.
    """
    probs = np.asarray(probs, float)
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(1.9 * n, 3.9), squeeze=False, gridspec_kw={"height_ratios": [1, 1.1]})
    for j in range(n):
        img = np.asarray(images[j])
        axes[0, j].imshow(img, cmap="gray" if img.ndim == 2 else None)
        axes[0, j].axis("off")
        if titles is not None:
            axes[0, j].set_title(titles[j], fontsize=8)
        colours = ["tab:orange" if k == probs[j].argmax() else "tab:gray" for k in range(len(classes))]
        axes[1, j].barh(range(len(classes)), probs[j], color=colours)
        axes[1, j].set_xlim(0, 1)
        axes[1, j].invert_yaxis()
        axes[1, j].set_yticks(range(len(classes)), classes if j == 0 else [""] * len(classes), fontsize=7)
        axes[1, j].tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    return fig


def agreement_matrix(y_rows, y_cols, classes, row_name: str, col_name: str, title: str = "", ax=None):
    """How often one labelling (columns) says class j when another (rows) says
    class i: row-normalised shares with counts below, and the share of clips on
    which the two agree in the title. Rows with no clip stay empty."""
    y_rows, y_cols = np.asarray(y_rows), np.asarray(y_cols)
    C = len(classes)
    counts = confusion(y_rows, y_cols, C, normalize=None)
    share = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    ax = ax or plt.subplots(figsize=(3.8, 3.5))[1]
    ax.imshow(share, cmap="Purples", vmin=0, vmax=1)
    for i in range(C):
        for j in range(C):
            ax.text(j, i, f"{share[i, j]:.2f}\n({counts[i, j]})", ha="center", va="center", fontsize=7.5,
                    color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(C), classes, rotation=45)
    ax.set_yticks(range(C), classes)
    ax.set(xlabel=col_name, ylabel=row_name)
    ax.set_title(f"{title}\nagree on {np.mean(y_rows == y_cols):.0%} of {len(y_rows)} clips".strip(), fontsize=9)
    ax.figure.tight_layout()
    return ax.figure


def aggregation_bars(df, n_classes: int):
    """Bars of ``aggregation_accuracy``: one group per target, one bar per rule."""
    fig, ax = plt.subplots(figsize=(2.2 + 3.2 * len(df.columns), 3.2))
    w = 0.8 / len(df)
    for i, rule in enumerate(df.index):
        xs = np.arange(len(df.columns)) + (i - (len(df) - 1) / 2) * w
        bars = ax.bar(xs, df.loc[rule], w, label=rule, color="0.6" if rule == "single frame" else None)
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.axhline(100 / n_classes, color="0.4", ls=":", label="chance")
    ax.set_xticks(range(len(df.columns)), [f"against the {c}" for c in df.columns])
    ax.set(ylabel="accuracy (%)", ylim=(0, 100), title="face teacher: single frames vs clip aggregation")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def pseudo_label_quality(records):
    """Pseudo-labels on the unlabeled clips over training, one panel per fusion run.

    Each panel: the accuracy (against the hidden voice label) of the face
    teacher's labels, of the speech model's own weak-view labels, and of the
    fused labels on the clips kept; and the mask rate (share of clips kept).
    History rows average the steps since the previous evaluation.
    """
    records = records if isinstance(records, (list, tuple)) else [records]
    fig, axes = plt.subplots(1, len(records), figsize=(4.8 * len(records), 3.3), squeeze=False)
    for ax, r in zip(axes[0], records):
        col = lambda k: np.array([h.get(k, np.nan) for h in r.history], float)  # noqa: E731
        steps = col("step")
        ax.plot(steps, col("pl_acc_face"), marker="^", color="tab:orange", label="face teacher")
        ax.plot(steps, col("pl_acc_speech"), marker="v", color="tab:blue", label="speech model (weak view)")
        ax.plot(steps, col("pl_acc"), marker="o", lw=2.2, color="tab:green", label="fused, kept clips")
        ax.plot(steps, col("mask_rate"), ls="--", color="0.35", label="mask rate (share kept)")
        ax.axhline(1 / len(r.classes), color="0.6", ls=":", label="chance")
        if not np.isfinite(col("pl_acc")).any():
            ax.text(0.5, 0.5, "no clip kept:\nno fused label to score", transform=ax.transAxes, ha="center", fontsize=8)
        ax.set(ylim=(-0.03, 1.03), xlabel="step", title=f"{r.method} ({fusion_knob(r)})")
    axes[0][0].set_ylabel("accuracy / share of unlabeled clips")
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def agreement_sweep(runs: dict, n_classes: int):
    """Runs over the corpus's face-voice agreement rate, in two panels.

    runs : {face_voice_agreement: [RunRecord, ...]}, the same methods at each
        rate. Left: test UA per method. Right: how often the face teacher's clip
        label matched the voice label on the unlabeled clips (``pl_acc_face`` of
        the fusion runs, second half of training), beside the rate itself.
    """
    rates = sorted(runs)
    fig, ax = plt.subplots(1, 2, figsize=(9.5, 3.2))
    for m in dict.fromkeys(r.method for a in rates for r in runs[a]):
        ua = [next((r.metrics["ua"] for r in runs[a] if r.method == m), np.nan) for a in rates]
        ax[0].plot(rates, ua, marker="o", label=m, ls="--" if m == "supervised" else "-",
                   color="0.4" if m == "supervised" else None)
    face = [[v for v in (r.late_mean("pl_acc_face") for r in runs[a]) if np.isfinite(v)] for a in rates]
    face = [np.mean(v) if v else np.nan for v in face]
    ax[1].plot(rates, 100 * np.array(face), marker="^", color="tab:orange", label="teacher's label = voice label")
    ax[1].plot([0, 1], [0, 100], color="0.6", ls=":", label="the agreement rate")
    for a in ax:
        a.axhline(100 / n_classes, color="0.7", ls=":")
        a.set_xlabel("face_voice_agreement of the corpus")
        a.legend(fontsize=7)
    ax[0].set(ylabel="test UA (%)", title="benefit of the face view")
    ax[1].set(ylabel="accuracy (%)", title="teacher's labels on unlabeled clips", ylim=(0, 100))
    fig.tight_layout()
    return fig


def sweep_plot(df):
    """The fusion regime (``results.sweep``'s table): test UA of each method
    against the corpus's face-voice agreement rate, mean and 95 % interval
    over seeds (left); how often the face teacher's clip label matched the
    voice label on the unlabeled clips, beside the rate itself (right)."""
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.4))
    for m, g in df.groupby("method", sort=False):
        g = g.sort_values("agreement")
        base = m == "supervised"
        ax[0].errorbar(g["agreement"], g["ua"], yerr=g["ua_ci95"].fillna(0), marker="o", capsize=3, label=m,
                       ls="--" if base else "-", color="0.4" if base else None)
    face = df.groupby("agreement")["face_label_acc"].mean()
    ax[1].plot(face.index, face.values, marker="^", color="tab:orange", label="teacher's label = voice label")
    ax[1].plot([0, 1], [0, 100], color="0.6", ls=":", label="the agreement rate")
    seeds = int(df["seeds"].min()) if len(df) else 0
    ax[0].set(ylabel="test UA (%)", title=f"UA against face-voice agreement ({seeds} seeds, 95 % CI)")
    ax[1].set(ylabel="accuracy (%)", title="teacher's labels on unlabeled clips", ylim=(0, 100))
    for a in ax:
        a.set_xlabel("face_voice_agreement of the corpus")
        a.legend(fontsize=7)
    fig.tight_layout()
    return fig


# --- lessons 10-12 (comparison, classic methods, own corpus) ---

def tsne_vs_umap(records, seed: int = 0):
    """The same runs' test embeddings projected twice: t-SNE (top row) and UMAP (bottom row).

    One column per run, points coloured by true class, so the two maps of
    the same points can be compared directly (``project`` does the work).
    """
    records = [r for r in records if r.embeddings is not None]
    fig, axes = plt.subplots(2, len(records), figsize=(3.6 * len(records), 6.6), squeeze=False)
    for row, how in enumerate(("tsne", "umap")):
        for ax, r in zip(axes[row], records):
            scatter_by_class(ax, project(r.embeddings, how, seed), r,
                             f"{r.method}: {'t-SNE' if how == 'tsne' else 'UMAP'}, UA {r.metrics['ua']:.1f}")
    axes[0][0].legend(fontsize=7, markerscale=2)
    fig.tight_layout()
    return fig


def feature_boxplots(table, labels, classes, columns):
    """Boxes of a few per-clip features by class, one panel (and y-axis) per feature.

    table : DataFrame, one row per clip (e.g. ``prosody.feature_table``)
    labels : class index of each row (rows with -1 are left out)
    classes : class names in order; columns : the features to draw.
    A box spans the middle half of the clips, its line is the median, the
    whiskers reach 1.5 box lengths (outliers not drawn).
    """
    labels = np.asarray(labels)
    fig, axes = plt.subplots(1, len(columns), figsize=(2.7 * len(columns), 2.9), squeeze=False)
    for ax, col in zip(axes[0], columns):
        values = table[col].to_numpy()
        ax.boxplot([values[labels == c] for c in range(len(classes))], showfliers=False)
        ax.set_xticks(range(1, len(classes) + 1), classes, rotation=45, fontsize=8)
        ax.set_title(col, fontsize=9)
    fig.tight_layout()
    return fig


def reliability_plot(curves: dict, n_bins: int = 10, ax=None, title: str = "reliability diagram"):
    """Accuracy against confidence (``metrics.reliability``), one line per
    entry of ``curves`` ({label: (probs, y_true)}), with the diagonal of a
    calibrated model and each entry's ECE in the legend. Points below the
    diagonal: the model is surer than it is right (overconfident)."""
    from .metrics import expected_calibration_error, reliability
    if ax is None:
        _, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1, label="calibrated")
    for label, (probs, y) in curves.items():
        r = reliability(probs, y, n_bins)
        ok = r["count"] > 0
        ece = expected_calibration_error(probs, y, n_bins)
        ax.plot(r["confidence"][ok], r["accuracy"][ok], "o-", ms=4,
                label=f"{label} (ECE {ece:.1f} %)")
    ax.set(xlim=(0, 1.02), ylim=(0, 1.02), xlabel="confidence (max probability)", ylabel="accuracy in the bin", title=title)
    ax.legend(fontsize=8, loc="upper left")
    return ax


def class_violins(panels: dict, classes, ylabel: str = "", ref: float | None = 0.0):
    """One measure's distribution per class, side by side, one panel per entry of ``panels``.

    panels : {title: (values, groups)}, ``values`` numbers (n,) and ``groups``
    the class name of each value (n,), e.g. one per corpus style or per
    labelling; classes : the class names in the order drawn (a class with
    fewer than two values in a panel is left empty); ylabel : the measure and
    its unit, on a y-axis shared by the panels; ref : a horizontal reference
    line (such as 0 for a difference to neutral), None for none.
    Each violin is a kernel density of the values (matplotlib's
    ``violinplot``) with a tick at the median and a thick bar over the middle
    half (25th to 75th percentile): where two violins reach the same height,
    clips of the two classes have the same value. Returns the figure.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.0), sharey=True, squeeze=False)
    for ax, (title, (values, groups)) in zip(axes[0], panels.items()):
        values, groups = np.asarray(values, dtype=float), np.asarray(groups)
        data = [values[(groups == c) & np.isfinite(values)] for c in classes]
        pos = [i for i, d in enumerate(data) if len(d) > 1]
        if pos:
            ax.violinplot([data[i] for i in pos], positions=pos, showmedians=True, showextrema=False)
            q1, q3 = zip(*(np.percentile(data[i], [25, 75]) for i in pos))
            ax.vlines(pos, q1, q3, color="k", lw=4)
        if ref is not None:
            ax.axhline(ref, color="0.6", ls="--", lw=1)
        ax.set_xticks(range(len(classes)), classes, rotation=45, fontsize=8)
        ax.set_title(title, fontsize=9)
    axes[0][0].set_ylabel(ylabel)
    fig.tight_layout()
    return fig
