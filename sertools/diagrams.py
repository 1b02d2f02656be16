"""Box-and-arrow pictures of one training pass of each method (matplotlib).

``draw("fixmatch")`` returns a Figure: what goes in (labeled clips, unlabeled
clips, their videos), through which augmentation and which network, where
the gradient is stopped, which state the method keeps between steps, and
which losses are summed. One small generic drawer (``_draw``) reads one
short spec per method (``SPECS``); a spec is nodes (text, position, kind)
and edges (from, to, label, style).

Kinds of boxes: ``data`` (inputs), ``aug`` (augmentations), ``net`` (the
speech model being trained), ``fixed`` (a network or memory that is not
trained by this loss: an EMA teacher, the face teacher, the ensemble
memory), ``op`` (a computation without weights), ``loss``.
Kinds of arrows: ``grad`` (solid: the gradient flows back), ``stop``
(dashed: no gradient, a target), ``state`` (dotted: an update of state kept
between steps).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Patch

KINDS = {"data": "#e8e8e8", "aug": "#fff2b3", "net": "#cfe2ff", "fixed": "#ffd9b3", "op": "#ffffff",
         "loss": "#ffc9c9", "off": "#f7f7f7"}
KIND_NAMES = {"data": "input", "aug": "augmentation", "net": r"model $f_\theta$ (trained)",
              "fixed": "fixed / kept state", "op": "operation", "loss": "loss"}
EDGES = {"grad": dict(ls="-", color="0.15"), "stop": dict(ls="--", color="tab:blue"),
         "state": dict(ls=":", color="tab:orange")}
EDGE_NAMES = {"grad": "gradient flows", "stop": "no gradient (target)", "state": "state update"}

# ---------------------------------------------------------------- the specs
# Columns (x) and rows (y) are in box units; every spec starts from the same
# labeled row, so the methods differ only in what they add below it.
LABELED_ROW = {
    "x": (r"labeled $x, y$" "\n" "(domain A)", (0, 3), "data"),
    "Ax": ("$A(x)$\nSpecAugment", (1.6, 3), "aug"),
    "fx": (r"$f_\theta$", (3.2, 3), "net"),
    "Ls": (r"$L_s$ = CE($f_\theta(A(x))$, $y$)", (5.4, 3), "loss"),
}
LABELED_EDGES = [("x", "Ax"), ("Ax", "fx"), ("fx", "Ls")]
TOTAL_AT = (8.6, 2.2)


def _ssl(title: str, nodes: dict, edges: list, total: str) -> dict:
    """A spec: the shared labeled row, the method's own boxes, and the total loss
    L = L_s + ... fed by ``Ls`` and the method's unlabeled loss box ``Lu``."""
    return dict(title=title, nodes={**LABELED_ROW, **nodes, "L": (total, TOTAL_AT, "loss")},
                edges=LABELED_EDGES + edges + [("Ls", "L"), ("Lu", "L")])


SPECS: dict[str, dict] = {}

SPECS["supervised"] = dict(
    title="Supervised baseline: labeled clips only",
    nodes={**LABELED_ROW, "u": ("unlabeled $u$\n(not used)", (0, 1.5), "off"),
           "L": ("$L = L_s$", TOTAL_AT, "loss")},
    edges=LABELED_EDGES + [("Ls", "L")])

SPECS["pseudo_label"] = _ssl(
    "Pseudo-Label (Lee 2013): the model labels the unlabeled clips itself", {
        "u": ("unlabeled $u$\n(domain B)", (0, 0.9), "data"),
        "a1": ("$a(u)$\nweak", (1.6, 0.2), "aug"),
        "a2": ("$a'(u)$\nweak, new noise", (1.6, 1.6), "aug"),
        "f1": (r"$f_\theta$ (no gradient)", (3.2, 0.2), "net"),
        "f2": (r"$f_\theta$", (3.2, 1.6), "net"),
        "q": (r"$\hat y$ = argmax $q$" "\n" r"keep if max $q \geq \tau$", (5.4, 0.2), "op"),
        "Lu": (r"$L_u$ = CE($f_\theta(a'(u))$, $\hat y$)" "\n" "on kept clips", (5.4, 1.6), "loss"),
    }, [("u", "a1"), ("u", "a2"), ("a1", "f1"), ("a2", "f2"), ("f2", "Lu"), ("f1", "q", "$q$", "stop"),
        ("q", "Lu", "", "stop")],
    r"$L = L_s + \lambda_u\,w(t)\,L_u$")

SPECS["pi_model"] = _ssl(
    r"$\Pi$-model (Laine & Aila 2017): two noisy passes must agree", {
        "u": ("every clip\n$x$ and $u$", (0, 0.9), "data"),
        "a1": ("$a(\\cdot)$\nnoise 1", (1.6, 1.6), "aug"),
        "a2": ("$a'(\\cdot)$\nnoise 2", (1.6, 0.2), "aug"),
        "f1": (r"$f_\theta$ + dropout", (3.2, 1.6), "net"),
        "f2": (r"$f_\theta$ + dropout", (3.2, 0.2), "net"),
        "Lu": (r"$L_c = \|p_1 - p_2\|^2 / C$", (5.4, 0.9), "loss"),
    }, [("u", "a1"), ("u", "a2"), ("a1", "f1"), ("a2", "f2"), ("f1", "Lu", "$p_1$"), ("f2", "Lu", "$p_2$", "stop")],
    r"$L = L_s + \lambda_u\,w(t)\,L_c$")

SPECS["temporal_ensembling"] = _ssl(
    "Temporal Ensembling (Laine & Aila 2017): the target is the average of past predictions", {
        "u": ("unlabeled $u_i$\n(index $i$)", (0, 1.5), "data"),
        "au": ("$a(u_i)$", (1.6, 1.5), "aug"),
        "fu": (r"$f_\theta$", (3.2, 1.5), "net"),
        "Z": ("memory $Z$ ($N \\times C$)\n" r"$Z_i \leftarrow \alpha Z_i + (1-\alpha) p_i$", (3.2, 0.0), "fixed"),
        "t": ("bias correction\n" r"$\tilde z_i = Z_i / (1 - \alpha^{e_i})$", (5.6, 0.0), "op"),
        "Lu": (r"$L_c = \|p_i - \tilde z_i\|^2 / C$", (5.4, 1.5), "loss"),
    }, [("u", "au"), ("au", "fu"), ("fu", "Lu", "$p_i$"), ("fu", "Z", "write $p_i$", "state"),
        ("Z", "t", "", "stop"), ("t", "Lu", "", "stop")],
    r"$L = L_s + \lambda_u\,w(t)\,L_c$")

SPECS["mean_teacher"] = _ssl(
    "Mean Teacher (Tarvainen & Valpola 2017): an averaged copy of the model gives the targets", {
        "u": ("unlabeled $u$", (0, 0.9), "data"),
        "a1": ("$a(u)$", (1.6, 1.6), "aug"),
        "a2": ("$a'(u)$", (1.6, 0.2), "aug"),
        "f1": (r"student $f_\theta$", (3.2, 1.6), "net"),
        "f2": (r"teacher $f_{\theta'}$" "\n" "(evaluated)", (3.2, 0.2), "fixed"),
        "Lu": (r"$L_c = \|p_s - p_t\|^2 / C$", (6.0, 0.9), "loss"),
    }, [("u", "a1"), ("u", "a2"), ("a1", "f1"), ("a2", "f2"), ("f1", "Lu", "$p_s$"), ("f2", "Lu", "$p_t$", "stop"),
        ("f1", "f2", r"EMA: $\theta' \leftarrow \beta\theta' + (1-\beta)\theta$", "state")],
    r"$L = L_s + \lambda_u\,w(t)\,L_c$")

SPECS["fixmatch"] = _ssl(
    "FixMatch (Sohn et al. 2020): a confident weak view labels the strong view", {
        "u": ("unlabeled $u$\n($\\mu B$ clips)", (0, 0.9), "data"),
        "a1": ("$a(u)$\nweak", (1.6, 0.0), "aug"),
        "a2": ("$A(u)$\nSpecAugment", (1.6, 1.6), "aug"),
        "f1": (r"$f_\theta$", (3.2, 0.0), "net"),
        "f2": (r"$f_\theta$", (3.2, 1.6), "net"),
        "q": (r"$\hat y$ = argmax $q$" "\n" r"$m = 1(\max q \geq \tau)$", (5.4, 0.0), "op"),
        "Lu": (r"$L_u$ = $m\cdot$CE($f_\theta(A(u))$, $\hat y$)", (5.4, 1.6), "loss"),
    }, [("u", "a1"), ("u", "a2"), ("a1", "f1"), ("a2", "f2"), ("f2", "Lu"), ("f1", "q", "$q$", "stop"),
        ("q", "Lu", "", "stop")],
    r"$L = L_s + \lambda_u\,L_u$")

_FACE_ROW = {
    "v": ("video frames\nof $u$", (0, 0.0), "data"),
    "ft": ("face teacher\n(fixed)", (1.6, 0.0), "fixed"),
    "agg": ("aggregate frames\n" r"$\to p_f$ (cached)", (3.2, 0.0), "op"),
}
_FACE_EDGES = [("v", "ft"), ("ft", "agg", "", "stop")]

SPECS["dcmkt"] = dict(
    title="Direct cross-modal transfer (Albanie et al. 2018): the face teaches the voice",
    nodes={"x": ("labeled $x, y$\n(not used; see\ndcmkt_finetune)", (0, 3), "off"),
           "u": ("audio of $u$", (0, 1.5), "data"), "au": ("$a(u)$", (1.6, 1.5), "aug"),
           "fu": (r"$f_\theta$", (3.2, 1.5), "net"), **_FACE_ROW,
           "Lu": (r"$L$ = H($p_f^{1/T}$, $f_\theta(a(u))$)" "\n" "(soft) or CE to argmax $p_f$", (5.6, 0.75), "loss")},
    edges=[("u", "au"), ("au", "fu"), ("fu", "Lu")] + _FACE_EDGES + [("agg", "Lu", "$p_f$", "stop")])


def _fusion(title: str, fuse_text: str, total: str) -> dict:
    return _ssl(title, {
        "u": ("audio of\nunlabeled $u$", (0, 0.95), "data"),
        "a2": ("$A(u)$\nSpecAugment", (1.6, 1.9), "aug"),
        "a1": ("$a(u)$\nweak", (1.6, 0.95), "aug"),
        "f2": (r"$f_\theta$", (3.2, 1.9), "net"),
        "f1": (r"$f_\theta$", (3.2, 0.95), "net"),
        **_FACE_ROW,
        "fuse": (fuse_text, (6.0, 0.5), "op"),
        "Lu": (r"$L_u$ = keep$\cdot$CE($f_\theta(A(u))$, $\hat y$)", (6.0, 1.9), "loss"),
    }, [("u", "a1"), ("u", "a2"), ("a1", "f1"), ("a2", "f2"), ("f2", "Lu"), ("f1", "fuse", "$p_s$", "stop"),
        ("agg", "fuse", "$p_f$", "stop"), ("fuse", "Lu", r"$\hat y$, keep", "stop")] + _FACE_EDGES, total)


SPECS["fusion_weighted"] = _fusion(
    "Weighted fusion (the paper's method): face and voice vote with weights",
    r"$p = \alpha p_f + (1-\alpha) p_s$" "\n" r"$\hat y$ = argmax $p$, keep if max $p \geq \tau$",
    r"$L = L_s + \lambda_u\,L_u$")
SPECS["fusion_consistent"] = _fusion(
    "Consistent fusion (the paper's method): keep clips where face and voice agree",
    r"$y_s$ = argmax $p_s$, $y_f$ = argmax $p_f$" "\n" r"agree: keep; else keep w.p. $\varepsilon$" "\n"
    r"with $\hat y$ drawn from $\{y_s, y_f\}$", r"$L = L_s + \lambda_u\,L_u$")


# ---------------------------------------------------------------- the drawer
def _edge(e: tuple) -> tuple:
    """(src, dst[, label[, style]]) -> (src, dst, label, style); style defaults to ``grad``."""
    return (*e, "", "grad")[:4] if len(e) == 2 else (*e, "grad")[:4]


def _draw(spec: dict, box_w: float = 1.3, box_h: float = 0.6):
    """Draw one spec: boxes at their positions, arrows between box edges, a legend."""
    nodes, edges = spec["nodes"], spec["edges"]
    xs = [p[0] for _, p, _ in nodes.values()]
    ys = [p[1] for _, p, _ in nodes.values()]
    fig = plt.figure(figsize=(0.85 * (max(xs) - min(xs) + 5.0), 0.85 * (max(ys) - min(ys) + 1.8)))
    ax = fig.add_axes((0.0, 0.0, 0.84, 0.9))   # fixed (no tight_layout): boxes were sized to their text
    ax.set_xlim(min(xs) - 1.2, max(xs) + 1.4)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.6)
    ax.set_aspect("equal")
    ax.apply_aspect()
    renderer, to_data = fig.canvas.get_renderer(), ax.transData.inverted()
    patches = {}
    for key, (text, (x, y), kind) in nodes.items():
        t = ax.text(x, y, text, ha="center", va="center", fontsize=8.5, zorder=3,
                    color="0.55" if kind == "off" else "black")
        (x0, y0), (x1, y1) = to_data.transform(t.get_window_extent(renderer).get_points())
        w, h = max(box_w, x1 - x0 + 0.2), max(box_h, y1 - y0 + 0.16)   # the box fits its text
        p = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05",
                           fc=KINDS[kind], ec="0.6" if kind == "off" else "0.25", lw=1)
        ax.add_patch(p)
        patches[key] = p
    for src, dst, label, style in map(_edge, edges):
        (x0, y0), (x1, y1) = nodes[src][1], nodes[dst][1]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", patchA=patches[src], patchB=patches[dst], shrinkA=1,
                                    shrinkB=1, lw=1.2, **EDGES[style]))
        if label:  # beside a vertical arrow, above any other
            vertical = abs(x1 - x0) < 0.3
            ax.text((x0 + x1) / 2 + (0.08 if vertical else 0), (y0 + y1) / 2 + (0 if vertical else 0.1), label,
                    ha="left" if vertical else "center", va="center" if vertical else "bottom", fontsize=8,
                    color=EDGES[style]["color"])
    used = {k for _, _, k in nodes.values()} - {"off"}
    used_edges = {_edge(e)[3] for e in edges}
    handles = [Patch(fc=KINDS[k], ec="0.25", label=KIND_NAMES[k]) for k in KINDS if k in used]
    handles += [Line2D([], [], label=EDGE_NAMES[s], **EDGES[s]) for s in EDGES if s in used_edges]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    ax.axis("off")
    ax.set_title(spec["title"], fontsize=10)
    return fig


def draw(name: str):
    """The training pass of method ``name`` as a box-and-arrow diagram.

    Parameters
    ----------
    name : one of ``supervised``, ``pseudo_label``, ``pi_model``,
        ``temporal_ensembling``, ``mean_teacher``, ``fixmatch``, ``dcmkt``,
        ``fusion_weighted``, ``fusion_consistent`` (``dcmkt_finetune`` draws
        ``dcmkt``, its first phase).

    Returns
    -------
    matplotlib.figure.Figure
        Solid arrows carry gradients, dashed ones are targets (no gradient),
        dotted ones update state kept between steps (EMA, memory).

    Examples
    --------
    >>> from sertools.diagrams import draw
    >>> fig = draw("fixmatch")
    """
    key = "dcmkt" if name == "dcmkt_finetune" else name
    if key not in SPECS:
        raise ValueError(f"no diagram for {name!r}; choose one of {', '.join(SPECS)}")
    return _draw(SPECS[key])
