"""The built-in audio-visual corpus: speakers, clips, splits and domains.

The layout mirrors the paper's experiments (Zhang et al., Knowledge-Based
Systems 2021): a small labeled set of in-domain speech (like CH-SIMS or
IEMOCAP), a large set of unlabeled talking videos from another domain
(other speakers, another microphone and room, like iQIYI-VID or
EmoVoxCeleb), and speaker-disjoint validation and test sets. A separate
set of single face images with expression labels stands in for the face
datasets the face teacher is trained on.

The label of a clip is the emotion of its voice. The face of the same clip
shows the same emotion only with probability ``face_voice_agreement``;
otherwise it shows another one, mostly neutral or the class of the same
arousal (a polite smile over an angry voice, a still face over a sad one;
docs/emotion-cues.md, "Why the two views disagree"). The face's emotion is kept
in the table as hidden ground truth for the lessons.

Generation is deterministic for a seed (every clip has its own random
stream, so the result does not depend on the number of worker processes)
and is cached on disk keyed by the configuration.

References
----------
Zhang, S., Chen, M., Chen, J., Li, Y.-F., Wu, Y., Li, M., & Zhu, C. (2021).
Combining cross-modal knowledge transfer and semi-supervised learning for
speech emotion recognition. Knowledge-Based Systems, 229, 107340.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..cache import cache_dir, load_arrays, save_arrays
from ..clips import Clips
from ..config import EMOTIONS, CorpusConfig, class_names, config_hash, stage_key, validate
from ..rooms import Channel, apply_channel
from . import face as facegen
from . import voice as voicegen

# Share of each voice emotion (mildly unbalanced, like IEMOCAP, so WA != UA).
CLASS_PROBS = {"neutral": 0.34, "happy": 0.22, "sad": 0.22, "angry": 0.22}
# When the face disagrees with the voice, what it shows instead: mostly
# neutral or the emotion of the same arousal.
FACE_WHEN_DISAGREE = {
    "neutral": {"sad": 0.45, "happy": 0.35, "angry": 0.20},
    "happy": {"neutral": 0.50, "angry": 0.30, "sad": 0.20},
    "sad": {"neutral": 0.65, "happy": 0.15, "angry": 0.20},
    "angry": {"neutral": 0.40, "happy": 0.40, "sad": 0.20},
}
TO_SENTIMENT = {"neutral": "neutral", "happy": "positive", "sad": "negative", "angry": "negative"}
# Domain B's prior under prior_b="wild": in-the-wild video (vlogs, interviews, talk shows) is mostly neutral
# speech (docs/emotion-cues.md, "Domain B: in-the-wild video").
WILD_PROBS = {"neutral": 0.55, "happy": 0.20, "sad": 0.12, "angry": 0.13}
# What a rater hears instead when they miss the intended emotion, and which second emotion a mixed clip carries:
# its arousal and valence neighbours (neutral with sad and happy, happy with angry; docs/emotion-cues.md,
# "Raters"). "other" stands for IEMOCAP's other categories (frustration, surprise, ...), outside the class set.
NEIGHBOURS = {
    "neutral": {"sad": 0.35, "happy": 0.30, "angry": 0.10, "other": 0.25},
    "happy": {"neutral": 0.45, "angry": 0.25, "sad": 0.05, "other": 0.25},
    "sad": {"neutral": 0.55, "angry": 0.10, "happy": 0.05, "other": 0.30},
    "angry": {"neutral": 0.30, "happy": 0.30, "sad": 0.10, "other": 0.30},
}
MIXES = {"neutral": {"sad": 0.5, "happy": 0.5}, "happy": {"angry": 0.6, "neutral": 0.4},
         "sad": {"neutral": 0.6, "angry": 0.4}, "angry": {"happy": 0.6, "sad": 0.4}}
NEUTRAL_HIT = 0.60   # a rater hears a neutral clip as neutral (natural speech always carries some colour)
LAPSE = 0.05         # a rater's slips of attention, whatever the clip


def label_of(emotion: str, classes: str) -> int:
    """Class index of a voice/face emotion under the corpus's class set.

    ``classes`` is "emotion4" (neutral, happy, sad, angry) or "sentiment3"
    (negative, neutral, positive; ``TO_SENTIMENT`` maps happy to positive,
    sad and angry to negative), in the order of ``config.class_names``.
    """
    names = class_names(classes)
    return names.index(emotion if classes == "emotion4" else TO_SENTIMENT[emotion])


def face_emotion(voice_emotion: str, agreement: float, rng) -> str:
    """Draw the emotion the face shows, given the voice's (see module doc).

    The voice's own emotion with probability ``agreement``; otherwise one
    from ``FACE_WHEN_DISAGREE`` (docs/emotion-cues.md, "Why the two views
    disagree"). ``rng`` is a ``numpy.random.Generator``.
    """
    if rng.random() < agreement:
        return voice_emotion
    alt = FACE_WHEN_DISAGREE[voice_emotion]
    return str(rng.choice(list(alt), p=list(alt.values())))


def _channel(domain: str, cfg: CorpusConfig, rng) -> Channel:
    """Domain A: a quiet studio; domain B: noisier, more coloured, reverberant."""
    if domain == "A":
        return Channel(snr_db=cfg.snr_db_a + rng.uniform(-3, 3), colour=rng.uniform(0, 1),
                                gain_db=rng.uniform(-3, 3), rt60=rng.uniform(0.0, 0.15))
    return Channel(snr_db=cfg.snr_db_b + rng.uniform(-5, 5), colour=rng.uniform(0.5, 2.0),
                            gain_db=rng.uniform(-10, 6), rt60=rng.uniform(0.1, 0.5))


def frame_loudness(envelope: np.ndarray, n_frames: int) -> np.ndarray:
    """The voice's loudness per video frame, in [0, 1]: the mouth follows it.

    ``envelope`` (float, shape (n,), e.g. from ``voice.synthesize``) is split
    into ``n_frames`` nearly equal parts; each frame gets its part's mean,
    relative to the envelope's peak, times 1.3 and clipped to [0, 1].

    Returns
    -------
    numpy.ndarray
        float64, shape (n_frames,).
    """
    parts = np.array_split(envelope, n_frames)
    return np.clip(np.array([p.mean() for p in parts]) / (envelope.max() + 1e-9) * 1.3, 0, 1)


def rater_votes(emotion: str, strength: float, n_raters: int, skill: float, rng, blend: str = "") -> list[str]:
    """What ``n_raters`` raters hear in one clip whose speaker meant ``emotion``.

    Each rater, independently, hears the intended emotion with a probability
    that grows with the strength of its cues (intensity * expressivity):
    ``(1 - LAPSE) * (1 - 0.75 * exp(-strength / skill))``, from a quarter
    (a guess) for a clip with no cues to about 0.95; a neutral clip is heard
    as neutral with ``NEUTRAL_HIT``. A rater who misses hears neutral when the
    cues are weak (with probability exp(-strength / skill)), else a neighbour
    (``NEIGHBOURS``; the clip's second emotion ``blend`` for 60 % of the
    misses of a mixed clip), or an emotion outside the class set ("other").

    Returns one emotion name (or "other") per rater.
    """
    votes = []
    weak = float(np.exp(-strength / skill))
    hit = NEUTRAL_HIT if emotion == "neutral" else (1 - LAPSE) * (1 - 0.75 * weak)
    alt = NEIGHBOURS[emotion]
    for _ in range(n_raters):
        if rng.random() < hit:
            votes.append(emotion)
        elif emotion != "neutral" and rng.random() < weak:
            votes.append("neutral")
        elif blend and rng.random() < 0.6:
            votes.append(blend)
        else:
            votes.append(str(rng.choice(list(alt), p=list(alt.values()))))
    return votes


def majority(votes: list[str]) -> tuple[str | None, float]:
    """The raters' label and agreement: the emotion more than half of them chose
    (None when none did, or when "other" did) and the share who chose it (for
    None, the largest share any one answer got)."""
    names, counts = np.unique(votes, return_counts=True)
    top = int(np.argmax(counts))
    share = counts[top] / len(votes)
    label = str(names[top]) if counts[top] * 2 > len(votes) and names[top] != "other" else None
    return label, float(share)


def make_clip(cfg: CorpusConfig, speaker: voicegen.Speaker, identity, domain: str,
              emotion: str, intensity: float, rng, channel=None, video: bool = True,
              blend: tuple[str, float] | None = None):
    """One clip of ``speaker`` (voice) and ``identity`` (face) in ``domain``.

    The voice says ``emotion`` at ``intensity`` (mixed with ``blend``, an
    emotion and its strength, in the natural style; intensity * expressivity
    capped at 1 there; the F0 range cue sets the whole contour's range
    under ``pitch_range`` "contour", the natural style's "auto"; the contour
    has the emotion's shape in a share ``contour_match`` of natural clips,
    in every acted one) through the
    domain's channel (``channel``, or a fresh random one); the face shows
    ``face_emotion``'s pick at the voice's intensity plus noise (sd 0.15,
    kept in [0.2, 1]), with the mouth following the voice's loudness.

    Returns
    -------
    wave : numpy.ndarray
        float32, shape (n,), at ``cfg.sr`` Hz.
    frames : numpy.ndarray or None
        uint8, shape (cfg.n_frames, cfg.face_size, cfg.face_size, 3), RGB;
        None when ``video`` is False.
    face_emotion : str
        The emotion the face shows.
    """
    duration = rng.uniform(cfg.min_seconds, cfg.max_seconds)
    natural = cfg.style == "natural"
    whole = cfg.pitch_range == "contour" or (cfg.pitch_range == "auto" and natural)
    wave, env = voicegen.synthesize(emotion, intensity, speaker, duration, rng, cfg.sr, blend=blend,
                                    strength_cap=1.0 if natural else None, whole_range=whole,
                                    shape_match=cfg.contour_match if natural else 1.0)
    wave = apply_channel(wave, channel or _channel(domain, cfg, rng), rng, cfg.sr)
    f_emotion = face_emotion(emotion, cfg.face_voice_agreement, rng)
    frames = None
    if video:
        f_int = float(np.clip(intensity + rng.normal(0, 0.15), 0.2, 1.0))
        frames = facegen.talking_video(identity, f_emotion, f_int, frame_loudness(env, cfg.n_frames),
                                       rng, size=cfg.face_size)
    return wave, frames, f_emotion


def prior(domain: str, cfg: CorpusConfig) -> dict[str, float]:
    """The intended emotions' shares in a domain: ``CLASS_PROBS``, or for
    domain B under ``prior_b`` "wild" (the natural style's "auto") ``WILD_PROBS``."""
    wild = cfg.prior_b == "wild" or (cfg.prior_b == "auto" and cfg.style == "natural")
    return WILD_PROBS if domain == "B" and wild else CLASS_PROBS


def _row(cfg: CorpusConfig, split: str, speaker: str, rng) -> dict:
    """One planned clip: the intended emotion, its intensity and (natural) its second emotion."""
    p = prior(speaker[0], cfg)
    emotion = str(rng.choice(list(p), p=list(p.values())))
    if cfg.style == "acted":
        return dict(split=split, speaker=speaker, domain=speaker[0], emotion=emotion,
                    intensity=float(rng.uniform(cfg.intensity_min, cfg.intensity_max)))
    intensity = float(rng.beta(cfg.intensity_a, cfg.intensity_b))
    blend, share = "", 0.0
    if rng.random() < cfg.mixed:
        mix = MIXES[emotion]
        blend, share = str(rng.choice(list(mix), p=list(mix.values()))), float(rng.uniform(0.3, 0.7))
    return dict(split=split, speaker=speaker, domain=speaker[0], emotion=emotion, intensity=intensity,
                blend=blend, blend_share=share)


def _plan(cfg: CorpusConfig) -> pd.DataFrame:
    """Who says what in which split: the corpus table before any sound.

    Domain-A speakers are split 60/20/20 into the labeled pool, val and test;
    the unlabeled pool's clips come from ``n_speakers_b`` domain-B speakers
    and test_b's (drawn last, from a stream of their own) from
    ``n_speakers_b_test`` others."""
    rng = np.random.default_rng([cfg.corpus_seed, 1])
    n_a = cfg.n_speakers_a
    order = rng.permutation(n_a)
    n_val_spk = max(1, round(0.2 * n_a))
    n_test_spk = max(1, round(0.2 * n_a))
    spk = {"val": order[:n_val_spk], "test": order[n_val_spk:n_val_spk + n_test_spk],
           "train": order[n_val_spk + n_test_spk:]}
    rows = []
    for split, n in (("train", cfg.n_train), ("unlabeled", cfg.n_unlabeled), ("val", cfg.n_val), ("test", cfg.n_test)):
        if split == "unlabeled":
            speakers = [f"B{j:03d}" for j in rng.integers(0, cfg.n_speakers_b, n)]
        else:
            speakers = [f"A{j:03d}" for j in rng.choice(spk[split], n)]
        rows += [_row(cfg, split, s, rng) for s in speakers]
    if cfg.n_test_b and cfg.n_speakers_b_test:
        rng_b = np.random.default_rng([cfg.corpus_seed, 5])
        rows += [_row(cfg, "test_b", f"B{cfg.n_speakers_b + j:03d}", rng_b)
                 for j in rng_b.integers(0, cfg.n_speakers_b_test, cfg.n_test_b)]
    t = pd.DataFrame(rows)
    t.insert(0, "clip_id", [f"clip{i:05d}" for i in range(len(t))])
    return t


def _speakers(cfg: CorpusConfig, table: pd.DataFrame):
    out = {}
    sd = cfg.expressivity_sd if cfg.style == "natural" else None
    for s in sorted(set(table["speaker"])):
        rng = np.random.default_rng([cfg.corpus_seed, 2, int(s[1:]), ord(s[0])])
        out[s] = (voicegen.random_speaker(rng, s, sd), facegen.random_identity(rng),
                  _channel(s[0], cfg, rng))  # domain A keeps one session channel per speaker
    return out


def rate(cfg: CorpusConfig, table: pd.DataFrame, people: dict) -> pd.DataFrame:
    """The raters' verdicts, added to the plan (every clip, from a stream of its own).

    Adds ``rater_votes`` (the raters' answers, joined by "|"), ``rater_label``
    (their majority, "" without one), ``label_emotion`` (the emotion the
    label names) and ``rater_agreement`` (the share of raters who chose it).
    The label is what the raters heard in the natural style, and what the
    speaker meant in the acted one (as RAVDESS's, whose raters were asked
    afterwards). Natural clips of a labeled split (train, val, test, test_b)
    without a majority move to the split ``excluded``, as IEMOCAP's are kept
    out of its 4-class set; in the unlabeled pool, whose labels no method
    reads, the hidden label falls back to the intended emotion.
    """
    votes, majorities = [], []
    for i, r in enumerate(table.itertuples()):
        rng = np.random.default_rng([cfg.corpus_seed, 6, i])
        strength = r.intensity * people[r.speaker][0].expressivity
        v = rater_votes(r.emotion, min(strength, 1.0), cfg.n_raters, cfg.rater_skill, rng,
                        getattr(r, "blend", ""))
        votes.append(v)
        majorities.append(majority(v))
    t = table.copy()
    t["rater_votes"] = ["|".join(v) for v in votes]
    t["rater_label"] = [m[0] or "" for m in majorities]
    if cfg.style == "natural":
        t["label_emotion"] = [m[0] or e for m, e in zip(majorities, t["emotion"])]
        t.loc[(t.rater_label == "") & (t.split != "unlabeled"), "split"] = "excluded"
    else:
        t["label_emotion"] = t["emotion"]
    t["rater_agreement"] = [float(np.mean([x == lab for x in v])) for v, lab in zip(votes, t["label_emotion"])]
    return t


def rater_summary(cfg: CorpusConfig) -> dict:
    """The raters' calibration figures of a corpus's plan (docs/emotion-cues.md, "Raters"), without
    making a sound: the plan, the speakers and the raters' votes are all the figures need.

    Over the clips of the labeled splits (train, val, test, test_b and the excluded ones): ``kappa``, Fleiss'
    kappa of the raters' answers (the four classes and "other", ``statsmodels``); ``majority`` (% with a
    majority label) and ``excluded`` (how many without); over the kept ones ``unanimous`` (% where every
    rater agrees), ``agreement`` (the mean share of raters who chose the label) and ``intended`` (% whose
    label is the intended emotion); over every clip ``intensity_median``, ``mild`` (% of intensities below
    0.5) and ``mixed`` (% with a second emotion); and the speakers' ``expressivity`` median and 10-90 %
    range."""
    from statsmodels.stats.inter_rater import fleiss_kappa
    t = _plan(cfg)
    people = _speakers(cfg, t)
    t = rate(cfg, t, people)
    rated = t[t.split != "unlabeled"]
    answers = [*EMOTIONS, "other"]
    counts = np.array([[v.split("|").count(a) for a in answers] for v in rated.rater_votes])
    kept = rated[rated.split != "excluded"]
    e = np.array([p[0].expressivity for p in people.values()])
    return {"clips": len(rated), "kappa": float(fleiss_kappa(counts)),
            "majority": 100 * float((rated.split != "excluded").mean()), "excluded": int((rated.split == "excluded").sum()),
            "unanimous": 100 * float((kept.rater_agreement == 1).mean()), "agreement": float(kept.rater_agreement.mean()),
            "intended": 100 * float((kept.label_emotion == kept.emotion).mean()),
            "intensity_median": float(t.intensity.median()), "mild": 100 * float((t.intensity < 0.5).mean()),
            "mixed": 100 * float((t.blend.astype(str) != "").mean()) if "blend" in t else 0.0,
            "speakers": len(e), "expressivity": (float(np.median(e)), *np.percentile(e, [10, 90]).tolist())}


def _generate_rows(cfg: CorpusConfig, table: pd.DataFrame, rows: np.ndarray, people: dict):
    out = []
    for i in rows:
        r = table.iloc[i]
        spk, ident, chan = people[r.speaker]
        rng = np.random.default_rng([cfg.corpus_seed, 3, int(i)])
        blend = (r.blend, r.intensity * r.blend_share) if cfg.style == "natural" and r.blend else None
        out.append(make_clip(cfg, spk, ident, r.domain, r.emotion, r.intensity, rng,
                             channel=chan if r.domain == "A" else None, blend=blend))
    return out


def generate(cfg: CorpusConfig, n_jobs: int = 2, progress: bool = True) -> Clips:
    """Generate the corpus (no cache). Prefer ``builtin_corpus`` which caches.

    Returns
    -------
    Clips
        Waves float32 (n,) at ``cfg.sr``; frames uint8 (cfg.n_frames,
        cfg.face_size, cfg.face_size, 3) per clip; the table of ``_plan``
        with ``face_emotion``, ``label`` and ``face_label`` added; ``meta``
        holds the config and, per speaker, (Speaker, Identity, Channel).
    """
    validate(cfg)
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    table = _plan(cfg)
    people = _speakers(cfg, table)
    table = rate(cfg, table, people)
    chunks = np.array_split(np.arange(len(table)), max(1, len(table) // 100))
    it = tqdm(chunks, desc="generating corpus", disable=not progress, leave=False)
    parts = Parallel(n_jobs=n_jobs)(delayed(_generate_rows)(cfg, table, c, people) for c in it) \
        if n_jobs > 1 else [_generate_rows(cfg, table, c, people) for c in it]
    clips = [c for p in parts for c in p]
    table["face_emotion"] = [c[2] for c in clips]
    table["label"] = [label_of(e, cfg.classes) for e in table["label_emotion"]]
    table.loc[table.split == "excluded", "label"] = -1  # no majority: no label (the votes stay in the table)
    table["face_label"] = [label_of(e, cfg.classes) for e in table["face_emotion"]]
    return Clips(waves=[c[0] for c in clips], frames=[c[1] for c in clips], table=table,
                 classes=class_names(cfg.classes), sr=cfg.sr, name="builtin",
                 meta={"config": cfg, "people": people})


def builtin_corpus(cfg: CorpusConfig, progress: bool = True, refresh: bool = False) -> Clips:
    """The built-in corpus for ``cfg``, from the cache when it was made before.

    Arrays as for ``generate``; from the cache, ``meta`` holds only the
    config. ``refresh`` makes it anew.
    """
    path = cache_dir() / f"corpus-{config_hash(cfg)}.npz"
    if path.exists() and not refresh:
        z = load_arrays(path)
        ends = np.cumsum(z["lengths"])
        waves = np.split(z["audio"], ends[:-1])
        table = pd.DataFrame({k[4:]: z[k] for k in z if k.startswith("col_")})
        for c in ("clip_id", "split", "speaker", "domain", "emotion", "face_emotion", "blend", "rater_votes",
                  "rater_label", "label_emotion"):
            if c in table:
                table[c] = table[c].astype(str)
        return Clips(waves=waves, frames=list(z["frames"]), table=table[list(z["columns"])],
                     classes=class_names(cfg.classes), sr=cfg.sr, name="builtin", meta={"config": cfg})
    t0 = time.perf_counter()
    clips = generate(cfg, progress=progress)
    clips.meta["seconds"] = time.perf_counter() - t0
    cols = {f"col_{c}": clips.table[c].to_numpy() for c in clips.table.columns}
    for c in list(cols):
        if cols[c].dtype == object:
            cols[c] = cols[c].astype(str)
    save_arrays(path, audio=np.concatenate(clips.waves), lengths=np.array([len(w) for w in clips.waves]),
                frames=np.stack(clips.frames), columns=np.array(list(clips.table.columns)), **cols)
    return clips


def face_image_set(cfg: CorpusConfig, refresh: bool = False):
    """The single-image expression set for training the face teacher.

    Returns images (n, size, size, 3) uint8, labels (int64 (n,), class
    indices of the corpus's class set) and identity ids (int64 (n,)), with
    n = ``cfg.n_face_images`` and size = ``cfg.face_size``; identities are
    drawn apart from the corpus's speakers, like a separate face dataset
    (FER2013, RAF-DB; ``sertools.synth.face.face_image_set``). Cached on
    disk like the corpus; ``refresh`` makes it anew.
    """
    path = cache_dir() / f"faces-{stage_key('face_set', cfg)}.npz"  # the same set for every agreement rate
    if path.exists() and not refresh:
        z = load_arrays(path)
        return z["images"], z["labels"], z["identity"]
    rng = np.random.default_rng([cfg.corpus_seed, 4])
    images, emo_idx, identity = facegen.face_image_set(cfg.n_face_images, cfg.n_face_identities,
                                                       list(EMOTIONS), rng, size=cfg.face_size)
    labels = np.array([label_of(EMOTIONS[i], cfg.classes) for i in emo_idx])
    save_arrays(path, images=images, labels=labels, identity=identity)
    return images, labels, identity


def demo_clip(emotion: str = "happy", intensity: float = 1.0, sex: str = "f", snr_db: float = 25.0,
              seed: int = 0, seconds: float = 1.6, n_frames: int = 12, size: int = 64):
    """One clip from chosen knobs, for the corpus lesson's widget.

    Returns (wave, frames, sr): wave float32 (int(seconds * 16000),),
    frames uint8 (n_frames, size, size, 3) RGB, sr 16000. The speaker is a
    random one of the chosen sex with expressivity 1; the face shows the
    same emotion as the voice. ``seed`` seeds the random generator.
    """
    if emotion not in voicegen.VOICE_CUES:
        raise ValueError(f"emotion={emotion!r} is not known; choose one of {', '.join(voicegen.VOICE_CUES)}")
    rng = np.random.default_rng(seed)
    spk = voicegen.random_speaker(rng, "demo")
    while spk.sex != sex:
        spk = voicegen.random_speaker(rng, "demo")
    spk.expressivity = 1.0
    wave, env = voicegen.synthesize(emotion, intensity, spk, seconds, rng)
    wave = apply_channel(wave, Channel(snr_db=snr_db, colour=1.0), rng)
    frames = facegen.talking_video(facegen.random_identity(rng), emotion, intensity,
                                   frame_loudness(env, n_frames), rng, size=size)
    return wave, frames, 16000
