"""What the lessons say about runs: tables, verdicts and the paper's claims, as text.

Figures live in ``sertools.viz`` and the comparison's own table in
``sertools.results``; this module turns run records and results tables into
the sentences and small tables a lesson shows:

- ``outcome``, ``outcomes``, ``headroom_sentence`` (lessons 02, 04-12): a
  comparison table over seeds (``results.lesson_table``) as sentences: the
  verdict, the gap closed or "no headroom", what the unlabeled clips did;
- ``ssl_table``, ``transfer_diagnosis`` (08), ``fusion_diagnosis`` (09): one
  run against the supervised baseline on the same seed, with the run's own
  numbers that say why;
- ``one_seed_verdict``: the one phrase all of them use, which says that one
  seed cannot decide (``results.compare``'s paired test over seeds can);
- ``paper_claims`` (09, 10): the paper's three findings checked against a
  comparison table by paired tests (``sertools.stats``);
- ``cue_table`` (00, 11): the cues measured in clips beside the values the
  simulation was asked for.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .stats import holm, paired_test, verdict

# measured column -> (label, asked cue in VOICE_CUES or None, how measured and asked are compared)
_CUE_COLUMNS = {"f0_mean_hz": ("F0 (x neutral)", "f0", "ratio"),
                "loudness_mean": ("loudness (dB re neutral)", "level_db", "diff"),
                "syllable_rate": ("syllables per s", "rate", "abs"),
                "spectral_slope": ("slope (dB/oct re neutral)", "tilt", "diff")}


# the same for openSMILE's eGeMAPSv02 functionals (sertools.prosody.feature_table(kind="egemaps"))
EGEMAPS_CUE_COLUMNS = {
    "F0semitoneFrom27.5Hz_sma3nz_amean": ("F0 (st re neutral)", "f0", "st"),
    "F0semitoneFrom27.5Hz_sma3nz_pctlrange0-2": ("F0 range (x neutral)", "range_st", "ratio"),
    "loudness_sma3_amean": ("loudness (x neutral)", "level_db", "sone"),
    "VoicedSegmentsPerSec": ("voiced segments per s", "rate", "abs"),
    "slopeV0-500_sma3nz_amean": ("slope 0-500 Hz (dB/kHz re neutral)", "tilt", "khz"),
    "jitterLocal_sma3nz_amean": ("jitter (%)", "jitter", "pct"),
    "shimmerLocaldB_sma3nz_amean": ("shimmer (dB)", None, "abs"),
    "HNRdBACF_sma3nz_amean": ("HNR (dB re neutral)", None, "diff"),
}


def cue_table(features, emotions, speakers, intensity: float = 1.0, columns=None):
    """Measured cues per emotion beside the values the synthesizer was asked for.

    features : ``sertools.prosody.feature_table`` of some clips (``kind``
    prosody or egemaps); emotions, speakers : each clip's voice emotion and
    speaker; intensity : the clips' mean intensity, at which the asked values
    are taken (``sertools.synth.voice.cues_for``); columns : which measured
    columns to show (``_CUE_COLUMNS`` for the kit's prosody,
    ``EGEMAPS_CUE_COLUMNS`` for eGeMAPS; default: whichever fits).

    Every cue is compared to the same speaker's neutral clips (so sex,
    microphone gain and vocal tract cancel out): "ratio" divides, "diff"
    subtracts, "st" subtracts semitones (asked: 12 log2 of the F0 factor),
    "sone" divides loudness (asked: 2^(dB/10), loudness doubles every
    10 dB), "khz" subtracts a slope in dB/Hz and shows it in dB/kHz (asked:
    the tilt's difference in dB/octave: compare directions, not sizes);
    "abs" and "pct" (x 100) show the value as is. Cues the
    simulation does not set directly (shimmer, HNR) have no asked value.
    """
    from .synth.voice import cues_for
    if columns is None:
        columns = _CUE_COLUMNS if set(_CUE_COLUMNS) <= set(features.columns) else EGEMAPS_CUE_COLUMNS
    cols = list(columns)
    d = features[cols].reset_index(drop=True).assign(speaker=np.asarray(speakers), emotion=np.asarray(emotions))
    neutral = d[d.emotion == "neutral"].groupby("speaker")[cols].mean()
    d = d[d.speaker.isin(neutral.index)]  # speakers without neutral clips have no reference
    ref = neutral.loc[d.speaker].set_index(d.index)
    names = [e for e in ("neutral", "happy", "sad", "angry") if e in set(d.emotion)]
    asked = pd.DataFrame({e: cues_for(e, intensity) for e in names}).T
    measure = {"ratio": lambda c: d[c] / ref[c], "sone": lambda c: d[c] / ref[c], "diff": lambda c: d[c] - ref[c],
               "khz": lambda c: 1000 * (d[c] - ref[c]),
               "st": lambda c: d[c] - ref[c], "abs": lambda c: d[c], "pct": lambda c: 100 * d[c]}
    ask = {"ratio": lambda a: a / a["neutral"], "diff": lambda a: a - a["neutral"], "khz": lambda a: a - a["neutral"],
           "st": lambda a: 12 * np.log2(a / a["neutral"]), "sone": lambda a: 2 ** ((a - a["neutral"]) / 10),
           "abs": lambda a: a, "pct": lambda a: a}
    out = {}
    for col, (label, cue, how) in columns.items():
        out[(label, "measured")] = measure[how](col).groupby(d.emotion).mean().loc[names]
        out[(label, "asked")] = ask[how](asked[cue]).loc[names] if cue else pd.Series(np.nan, index=names)
    return pd.DataFrame(out).round(2) + 0.0  # + 0.0 turns -0.00 into 0.00




def ssl_table(baseline, *records):
    """Test F1 / WA / UA (%) of the baseline and the runs on the same split and
    seed, the UA difference, and each run's mask rate and target accuracy on
    the unlabeled clips over the second half of training (%)."""
    rows = []
    for r in (baseline, *records):
        rows.append({"method": r.method, **{k.upper(): r.metrics[k] for k in ("f1", "wa", "ua")},
                     "macro F1": r.metrics["macro_f1"], "ΔUA": r.metrics["ua"] - baseline.metrics["ua"],
                     "mask rate": 100 * r.late_mean("mask_rate"), "target acc. (B)": 100 * r.late_mean("pl_acc"),
                     "seconds": r.seconds})
    return pd.DataFrame(rows).set_index("method").round(1)


def one_seed_verdict(rec, ref, names: tuple[str, str] | None = None) -> str:
    """The one phrase every single-run diagnosis uses: the two runs' UA on one
    seed, and that one seed cannot decide (``results.compare``'s paired test
    over seeds can). ``names`` (for ``rec`` and ``ref``) tells apart two runs of
    one method with different settings, e.g. ("with SpecAugment", "without")."""
    d = rec.metrics["ua"] - ref.metrics["ua"]
    word = "scores above" if d > 0 else "scores below" if d < 0 else "ties with"
    a, b = names or (rec.method, ref.method)
    how = (f"`sertools compare --methods {ref.method},{rec.method} --seeds 5` gives the paired test"
           if rec.method != ref.method else "the same comparison over several seeds gives the paired test "
           "(`sertools.stats.paired_test`)")
    return (f"**{a} {word} {b} on this seed**: UA {rec.metrics['ua']:.1f} vs "
            f"{ref.metrics['ua']:.1f} % ({d:+.1f} points). One seed cannot tell a real difference from the "
            f"seed's luck: {how}.")


def transfer_diagnosis(baseline, dcmkt, finetune=None, agreement: float | None = None):
    """Markdown: whether DCMKT (and DCMKT + fine-tuning) beat the supervised
    baseline here, and the run's own numbers that say why (the teacher labels'
    accuracy against the voice, the corpus's face-voice agreement setting)."""
    from IPython.display import Markdown
    verdict = one_seed_verdict
    acc, C = dcmkt.late_mean("pl_acc"), len(dcmkt.classes)
    lines = [verdict(dcmkt, baseline), "",
             f"- The teacher's clip labels matched the clips' hidden label on {acc:.0%} of the unlabeled clips "
             f"(chance {1 / C:.0%}); the student learns these labels and no others."]
    if agreement is not None:
        lines.append(f"- The corpus lets the face show the speaker's intended emotion with probability {agreement:.0%} "
                     "(`face_voice_agreement`), and the label is what the raters heard: even a perfect face teacher "
                     "would give wrong speech labels on the rest.")
    lines.append("- The student never hears a labeled clip of domain A, where it is tested: "
                 "it learned on domain B's speakers and channel only.")
    if finetune is not None:
        lines += ["", verdict(finetune, baseline), "", verdict(finetune, dcmkt)]
    return Markdown("\n".join(lines))


def fusion_knob(rec) -> str:
    """The fusion knob of a run, for titles: alpha and tau, or epsilon."""
    c = rec.config
    if "method.alpha" in c:
        return f"alpha={c['method.alpha']}, tau={c['method.tau']}"
    return f"epsilon={c['method.epsilon']}" if "method.epsilon" in c else ""


def fusion_diagnosis(baseline, *records):
    """Markdown: for each fusion run, whether it beats the supervised baseline
    and its pseudo-label numbers over the second half of training (fused,
    speech-only, face-only accuracy and the share of clips kept)."""
    from IPython.display import Markdown
    lines = []
    for r in records:
        fused, sp, fa, kept = (r.late_mean(k) for k in ("pl_acc", "pl_acc_speech", "pl_acc_face", "mask_rate"))
        lines += [f"({fusion_knob(r)}) " + one_seed_verdict(r, baseline), "",
                  f"- Second half of training: {kept:.0%} of the unlabeled clips kept; labels right on "
                  + (f"{fused:.0%} of the kept clips (fused), " if np.isfinite(fused) else "")
                  + f"{sp:.0%} of all clips for the speech model alone, {fa:.0%} for the face alone."]
        if kept < 0.05:
            lines.append("- (Almost) no clip passed the rule: the unlabeled term did next to nothing, so this run "
                         "is close to the baseline with other random draws.")
        if np.isfinite(fused):
            lines.append("- The fused labels were " + ("better than either view alone" if fused > max(sp, fa) else
                                                       "not better than the better single view") + " on the clips kept.")
        va = r.late_mean("val_wa") / 100
        if sp < va - 0.05:
            lines.append(f"- The speech model was right on {va:.0%} of domain A's validation clips but its labels on "
                         f"the unlabeled clips only {sp:.0%} of the time: the domain shift to B.")
        lines.append("")
    return Markdown("\n".join(lines))


def _pair(df, a: str, b: str) -> dict | None:
    """The paired test of method ``a`` against ``b`` from results.csv's per-seed UA."""
    seeds = {}
    for m in (a, b):
        cell = df.set_index("method").at[m, "ua_per_seed"] if m in set(df["method"]) else ""
        seeds[m] = dict(pair.split(":") for pair in str(cell).split(";") if ":" in pair)
    common = sorted(set(seeds[a]) & set(seeds[b]), key=int)
    if not common:
        return None
    return paired_test([float(seeds[a][s]) for s in common], [float(seeds[b][s]) for s in common]) | {"n": len(common)}


def paper_claims(df):
    """Markdown: the paper's three qualitative findings checked against a
    ``results.compare`` table by paired t-tests over the same seeds
    (``sertools.stats``): direct transfer alone is below the baseline; SSL
    alone (FixMatch) is not above it; the best fusion beats every other
    method. The claims' p-values are corrected together by Holm's method
    (``stats.holm``), as the table's verdicts are. A claim "holds" only when
    the corrected test says so; a difference within noise is said to be
    within noise."""
    from IPython.display import Markdown
    ua = df.set_index("method")["ua"]
    claims = []  # (sentence, test, wanted verdict, what follows the verdict)
    if {"supervised", "dcmkt"} <= set(ua.index):
        claims.append(["Direct transfer alone is weaker than the baseline", _pair(df, "dcmkt", "supervised"), "worse",
                       f"(dcmkt {ua['dcmkt']:.1f} vs supervised {ua['supervised']:.1f} % UA)"])
    if {"supervised", "fixmatch"} <= set(ua.index):
        claims.append(["FixMatch alone does not improve on the baseline with few labels",
                       _pair(df, "fixmatch", "supervised"), ("within noise", "worse"),
                       f"(fixmatch {ua['fixmatch']:.1f} vs {ua['supervised']:.1f} %)"])
    fus = [m for m in ("fusion_consistent", "fusion_weighted") if m in ua.index]
    rest = ua.drop(fus + [m for m in ua.index if "all labels" in m], errors="ignore")
    if fus and len(rest):
        best, other = ua[fus].idxmax(), rest.idxmax()
        claims.append(["Fusing the two views gives the best result", _pair(df, best, other), "better",
                       f"(best fusion {best} {ua[best]:.1f} %, best other {other} {ua[other]:.1f} %)"])
    tested = [c[1] for c in claims if c[1] is not None]
    for t, p in zip(tested, holm([t["p"] for t in tested])):
        t["p_holm"], t["verdict"] = p, verdict(t["diff"], p)

    def said(t, want):
        if t is None:
            return "cannot be checked (no common seeds)"
        res = (f"(paired difference {t['diff']:+.1f} UA points [{t['diff'] - t['diff_ci']:+.1f}, "
               f"{t['diff'] + t['diff_ci']:+.1f}] over {t['n']} seeds, p = {t['p']:.3f}, Holm {t['p_holm']:.3f}: "
               f"{t['verdict']})")
        if t["verdict"] == "n/a":
            return f"cannot be tested with one seed {res}"
        ok = t["verdict"] in (want if isinstance(want, tuple) else (want,))
        return ("holds here " if ok else "does **not** hold here ") + res
    lines = [f"- {sentence}: {said(t, want)} {tail}." for sentence, t, want, tail in claims]
    lines.append(f"\n(Paired t-tests over the seeds both methods share; Holm's correction over the {len(tested)} "
                 "claims, p < 0.05; a seed fixes the labeled clips, the labeled batches and the initial weights for "
                 "every method.)")
    return Markdown("\n".join(lines))


def known_answers(summary, ceiling_ua: float) -> str:
    """Lesson 03's outcome, in sentences, from its own runs: for each method of
    ``digits.summary_table`` (beside ``supervised``), its mean paired gain, on
    how many seeds it was above, how right its targets were, and the share of
    the way from supervised to ``ceiling_ua`` (supervised with every training
    image labeled, the same seeds) that it covered."""
    base = summary.loc["supervised", "UA mean"]
    gap = ceiling_ua - base
    lines = [f"Supervised with the few labels: {base:.1f} % UA; with every training image labeled: "
             f"{ceiling_ua:.1f} % (a gap of {gap:.1f} points)."]
    for name, r in summary.drop(index="supervised").iterrows():
        share = f", {r['gain mean'] / gap:.0%} of the gap" if gap > 0 else " (no gap to close)"
        acc = f"; its targets were right {r['pseudo-label acc']:.0%} of the time" \
            if np.isfinite(r["pseudo-label acc"]) else ""
        lines.append(f"- {name}: {r['gain mean']:+.1f} points over supervised on average{share}, above it on "
                     f"{r['seeds above']} seeds (worst seed {r['worst gain']:+.1f}){acc}.")
    return "\n".join(lines)


KEPT_FEW = 5.0  # % of unlabeled clips in the loss below which a method is, in effect, the baseline


def _num(row, key) -> float:
    """A table cell as a float: NaN where it is missing or not a number."""
    v = row.get(key, np.nan)
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def headroom_sentence(df, baseline: str = "supervised") -> str:
    """What the table's ceiling row says about headroom: how far the all-label
    ceiling (``results.CEILING``) is above ``baseline``, by its paired test
    over the same seeds; "no headroom" when that difference is within noise."""
    from .results import CEILING
    rows = df.set_index("method")
    if CEILING not in rows.index or baseline not in rows.index:
        return "The table has no all-label ceiling, so how much any method could gain is not known."
    c, b = rows.loc[CEILING], rows.loc[baseline]
    d, half, v = _num(c, "ua_diff"), _num(c, "ua_diff_ci95"), c.get("verdict", "")
    ci = f" [{d - half:+.1f}, {d + half:+.1f}]" if np.isfinite(half) else ""
    head = (f"The all-label ceiling scores {_num(c, 'ua'):.1f} % UA against {baseline}'s {_num(b, 'ua'):.1f} % "
            f"({d:+.1f} points{ci} over {int(_num(c, 'seeds'))} seeds)")
    if v == "better":
        return head + ": there is headroom, a gap that unlabeled data could close."
    return head + (": **no headroom**. Labeling every training clip does not measurably help, so no method that "
                   "adds unlabeled clips can be expected to show a gain here either.")


def outcome(df, method: str, baseline: str = "supervised") -> str:
    """The outcome of one method of a comparison table (``results.compare``;
    one row per method, with the ceiling row where it ran) as Markdown
    sentences, every figure read from the table:

    - the verdict against ``baseline`` (better / worse / within noise by the
      Holm-corrected paired test over seeds, the table's ``verdict``), with the
      paired difference and its 95 % interval;
    - the share of the gap to the all-label ceiling it closed, or the measured
      reason there is none to close ("no headroom");
    - what the method did with its unlabeled clips: the share kept in the loss
      (under ``KEPT_FEW`` %: in effect the baseline, whatever the verdict) and
      how often their targets were right, beside domain A's validation accuracy.
    """
    from .results import CEILING, gap_text
    rows = df.set_index("method")
    if method not in rows.index:
        raise KeyError(f"method {method!r} is not in the table; it has {', '.join(rows.index)}")
    if baseline not in rows.index or np.isfinite(_num(rows.loc[baseline], "ua_diff")):
        raise ValueError(f"the table's paired tests are not against {baseline!r} (its baseline row is the one "
                         f"without a paired difference); make the table with results.summarize(..., "
                         f"baseline={baseline!r})")
    r = rows.loc[method]
    d, half, n, v = _num(r, "ua_diff"), _num(r, "ua_diff_ci95"), int(_num(r, "seeds")), r.get("verdict", "")
    p = _num(r, "p_holm")
    if v == "n/a" or not np.isfinite(half):
        lines = [f"**{method} vs {baseline}: one seed, no test** ({d:+.1f} UA points; one seed cannot tell a "
                 f"difference from luck)."]
    else:
        word = {"better": "better than", "worse": "worse than"}.get(v, "within noise of")
        lines = [f"**{method} is {word} {baseline}**: {d:+.1f} UA points [{d - half:+.1f}, {d + half:+.1f}] "
                 f"over {n} seeds (paired t-test, Holm-corrected p = {p:.3f})."]
    if CEILING in rows.index and method != CEILING:
        note = r.get("gap_note", "")
        note = note if isinstance(note, str) else ""
        if note == "no headroom":
            cause = {"better": "so a gain over the baseline that every label does not give is to be read with care",
                     "worse": "so there was no gain to be had either: the method lost ground the baseline holds"
                     }.get(v, "the measured cause of a null result")
            lines.append(f"- **No headroom** (above): {cause}.")
        elif np.isfinite(_num(r, "gap_closed")):
            gap = _num(rows.loc[CEILING], "ua") - _num(rows.loc[baseline], "ua")
            lines.append(f"- Of the {gap:.1f}-point gap between {baseline} and the all-label ceiling it closed "
                         f"{gap_text(r)}" + (" (a share of a gain within noise is noise too)."
                                             if v == "within noise" else "."))
    kept, acc, val = _num(r, "mask_rate"), _num(r, "pl_acc"), _num(r, "val_acc")
    if np.isfinite(kept):
        if kept < KEPT_FEW:
            lines.append(f"- Only {kept:.1f} % of the unlabeled clips entered its loss (second half of training): "
                         f"in effect it trained as {baseline} with other random draws, so its difference does not "
                         "come from the unlabeled clips" + (", whatever the verdict says." if v in ("better", "worse")
                                                           else "."))
        else:
            fact = f"- {kept:.0f} % of the unlabeled clips entered its loss (second half of training)"
            if np.isfinite(acc):
                fact += f"; their targets were right {acc:.0f} % of the time"
                if np.isfinite(val):
                    fact += f", against {val:.0f} % accuracy on domain A's validation clips"
                    if acc < val - 5:
                        fact += " (the gap is the domain shift to the unlabeled clips' speakers and channel)"
            lines.append(fact + ".")
    return "\n".join(lines)


def outcomes(df, baseline: str = "supervised"):
    """Markdown: ``headroom_sentence`` and every method's ``outcome``, in the
    table's order."""
    from IPython.display import Markdown
    from .results import CEILING
    methods = [m for m in df["method"] if m not in (baseline, CEILING)]
    return Markdown("\n\n".join([headroom_sentence(df, baseline)] + [outcome(df, m, baseline) for m in methods]))
