"""Configuration: one flat dataclass per stage, and the three presets.

``CorpusConfig`` holds the knobs of the built-in simulation (sizes, emotion
strength, face-voice agreement); ``TrainConfig`` holds the front end, model,
optimisation and method knobs. Both are plain dataclasses with defaults that
run (the ``default`` preset), in the spirit of nanoGPT's config: nothing is
hidden behind a framework.

Presets (docs/design.md):

- ``quick``: tests and CI, seconds per method.
- ``default``: the classroom, each deep method within a minute on a 2-core CPU.
- ``full``: closer to the paper's scale, meant for a GPU.

``get_config("default", n_labeled=80, tau=0.9)`` returns both configs with the
overrides applied and every value checked against its documented range.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass

EMOTIONS = ("neutral", "happy", "sad", "angry")
SENTIMENTS = ("negative", "neutral", "positive")


@dataclass
class CorpusConfig:
    """Knobs of the built-in audio-visual corpus (``sertools.synth``)."""

    corpus_seed: int = 0               # the simulated world; a run's `seed` varies labels and training only
    classes: str = "emotion4"          # "emotion4" (IEMOCAP-like) or "sentiment3" (CH-SIMS-like)
    sr: int = 16000
    n_speakers_a: int = 40             # in-domain speakers (labeled pool 60 %, val 20 %, test 20 %): 24 / 8 / 8
    n_speakers_b: int = 40             # out-of-domain speakers (unlabeled videos)
    n_train: int = 1920                # labeled pool (domain A); the label budget picks from it. Sized so that, with
                                       # every label, the field's order holds and labels are scarce at the default
                                       # budget (docs/emotion-cues.md, "Sizes")
    n_unlabeled: int = 1600            # unlabeled clips with video (domain B)
    n_val: int = 400                   # val and test: 8 speakers each; the test set is large enough that which clips
    n_test: int = 1200                 # a seed's model gets wrong moves a paired difference little ("Sizes")
    min_seconds: float = 1.2
    max_seconds: float = 2.0
    # The world (docs/emotion-cues.md, "A world as hard as real speech"). style "natural" (the default): mostly
    # mild and sometimes mixed emotions, speakers who differ widely in how much they show, and labels that are the
    # majority of simulated raters, like IEMOCAP's improvised sessions; "acted": clear, strong emotions labelled by
    # the speaker's intention, like RAVDESS (every clip and label as before the natural style existed).
    style: str = "natural"
    intensity_min: float = 0.5         # acted: emotion intensity drawn uniformly in [min, max]
    intensity_max: float = 1.0
    intensity_a: float = 2.0           # natural: intensity ~ Beta(a, b), mostly mild (mean a / (a + b))
    intensity_b: float = 3.0
    expressivity_sd: float = 0.45      # natural: speakers' expressivity is log-normal, exp(N(0, sd)) (acted: N(1, 0.2))
    mixed: float = 0.3                 # natural: share of clips whose voice also carries a neighbouring emotion
    n_raters: int = 3                  # raters per clip; the label is their majority (natural), IEMOCAP has 3+
    rater_skill: float = 0.45          # natural: how fast a rater's chance of hearing the intended emotion grows
                                       # with its strength (intensity * expressivity): 1 - exp(-strength / skill)
    prior_b: str = "auto"              # domain B's emotion prior: "wild" (neutral-dominant, like in-the-wild
                                       # video), "same" (domain A's), "auto": wild for natural, same for acted
    pitch_range: str = "auto"          # what a voice's F0 range cue sets: "contour" (the whole contour's range,
                                       # glides and fall included, as a pitch tracker measures it), "targets" (the
                                       # syllable targets' spread only), "auto": contour for natural, targets for acted
    contour_match: float = 0.5         # natural: share of clips whose F0 contour has its emotion's shape; the rest
                                       # take one of the four shapes at random (the shape says little in natural speech)
    n_speakers_b_test: int = 10        # held-out domain-B speakers, not in the unlabeled pool: the split test_b
    n_test_b: int = 400                # test_b clips (labels only for scoring: the target-domain score ua_b)
    face_voice_agreement: float = 0.7  # P(face emotion == voice emotion)
    n_frames: int = 8                  # video frames per clip
    face_size: int = 64                # pixels, square
    n_face_images: int = 4000          # single-image expression set for the face teacher
    n_face_identities: int = 200
    snr_db_a: float = 20.0             # channel of domain A (studio-like)
    snr_db_b: float = 12.0             # channel of domain B (in the wild)


@dataclass
class TrainConfig:
    """Features, model, optimisation and method knobs (``sertools.train``)."""

    seed: int = 0                      # the labeled clips drawn, their batches and windows; and, unless path_seed
                                       # says otherwise, the model's own randomness
    path_seed: int | None = None       # the model's own randomness (initial weights, dropout, augmentation draws);
                                       # None: seed. Another path_seed, the same seed: the same labeled clips and
                                       # batches, another training path (bench.twin_spread)
    device: str = "auto"               # auto: cuda, then mps, then cpu
    n_labeled: int = 60                # labeled clips per class: the largest budget whose converged all-label ceiling
                                       # is >= 10 UA points above it on validation (bench.validation_choices)
    # the speech model's front end (sertools.audio): what the deep methods read
    frontend: str = "logmel"           # "logmel" or "stft"
    classic_features: str = "prosody"  # the classic methods' feature set: "prosody", "logmel" or "egemaps"
    n_fft: int = 400                   # 25 ms at 16 kHz
    win_ms: float = 25.0
    hop_ms: float = 10.0
    n_mels: int = 40
    # inputs beyond the paper's (its setting: PAPER_SETTING below): each measured in notebooks/02 and by
    # `make bench`
    pitch_tracks: bool = True          # append frame-level F0 (semitones), voicing and loudness (audio.pitch_tracks)
    norm: str = "utterance_mean"       # spectrum, before the training pool's z-score: "pool" (nothing more, the paper's),
                                       # "utterance_mean" (per-clip mean per band, CMN), "utterance" (mean and variance,
                                       # CMVN) or "speaker"; chosen on validation (docs/methods.md)
    track_norm: str = "pool"           # the pitch tracks' normalisation: "same" as norm, or one of norm's values;
                                       # "speaker" is transductive (a test clip is normalised with its speaker's other
                                       # test clips): a named option, not the default (docs/methods.md, "Choices made
                                       # on validation")
    channel_copies: int | None = None  # multi-condition training: each labeled clip also re-recorded through this many
                                       # random rooms and microphones (audio.rerecord), as extra labeled clips;
                                       # None: the corpus's default (audio.copies_for): BUILTIN_COPIES (0, chosen on
                                       # validation) on the built-in corpus, 0 on real corpora
    # model (sertools.models.SpeechTransformer)
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    dim_ff: int = 128
    dropout: float = 0.2               # residual and feed-forward paths of the encoder, and the head
    attn_dropout: float = 0.0          # on the attention weights (off: see SpeechTransformer)
    subsample: int = 4                 # time subsampling of the conv front-end
    pooling: str = "stats"             # over time: "mean" (the paper's) or "stats" (mean and std)
    # optimisation (sertools.train)
    steps: int = 300
    batch_size: int = 32
    crop_s: float = 1.0                # train on a random window of this many seconds of each longer clip (0: whole
                                       # clips); evaluation always reads whole clips. Chosen on validation against
                                       # 1.5 s and whole clips (docs/methods.md, "Choices made on validation")
    lr: float = 2e-3
    weight_decay: float = 1e-4
    ema_eval: float = 0.0              # >0: evaluate an EMA of the weights (Sohn et al.'s FixMatch: 0.999); off for
                                       # every method by default
    eval_every: int = 50
    select: str = "last"               # test the "last" checkpoint, or the one with the "best" validation UA (chosen
                                       # by 2-fold cross-validation over the validation speakers, bench.STAGES)
    balance: bool = False              # class-balanced labeled batches (train.batch_streams): the all-label ceiling's
                                       # (results.ceiling_knobs), whose pool keeps the corpus's neutral-heavy prior
    patience: int = 0                  # early stopping: stop after this many evaluations without a better validation
                                       # UA (0: off, every method; the all-label ceiling turns it on, results.py)
    ceiling_max_steps: int = 5000      # the all-label ceiling's step budget is matched passes, at most this many
                                       # (results.ceiling_knobs; read by the comparison only, not part of a run's key)
    amp: str = "auto"                  # mixed precision: auto (bf16 on CUDA, off elsewhere), bf16, fp16, off
    # batch composition of the semi-supervised methods
    mu: int = 2                        # unlabeled batches per labeled batch
    # Method knobs. Each method's class attribute ``defaults`` is the one source
    # of truth (sertools/methods/<name>.py, with the published value and why it
    # differs); None here means "the method's own default", and any value set
    # here (a preset, --set, a keyword) overrides it for the methods that have it.
    specaugment: bool | None = None    # SpecAugment on the labeled batch too (the paper does; default True)
    tau: float | None = None           # confidence threshold
    lambda_u: float | None = None      # weight of the unsupervised term
    ramp: float | None = None          # ramp-up length as a fraction of training
    ema_decay: float | None = None     # mean teacher's EMA decay
    te_alpha: float | None = None      # temporal ensembling memory
    u_norm: str | None = None          # fusion loss over the whole unlabeled batch ("batch") or the kept clips ("kept")
    # cross-modal knobs
    face_teacher: str = "auto"         # "trained" (the kit's own), "fer2013" (pretrained, real faces),
                                       # "auto": trained on the built-in corpus, fer2013 on real ones
    fer_map: str = "drop"              # FER2013's extra classes: "drop" (renormalise) or "fold"
    face_arch: str = "cnn"             # the trained teacher: "cnn" or a timm MobileNetV3 name; cnn chosen on held-out
                                       # identities' accuracy and time (docs/methods.md, "The face teacher")
    face_epochs: int = 30              # training epochs of the face teacher
    face_lr: float = 1e-2              # the face teacher's peak learning rate (AdamW, one-cycle, 10 % warm-up)
    face_stem_stride: int = 1          # timm teachers: stride of the first convolution (timm's is 2; 1 keeps the
                                       # 64-pixel detail); "cnn" ignores it
    face_head: str = "linear"          # timm teachers: "linear" classifier on the pooled features, or timm's own
                                       # 1024-wide "timm" head; "cnn" ignores it (models.face_model)
    aggregate: str = "mean"            # frame -> clip: mean, max, logit_mean, vote
    temperature: float | None = None   # DCMKT soft-target temperature
    soft_targets: bool | None = None   # DCMKT: soft (distribution) or hard (argmax) face targets
    alpha: float | None = None         # fusion_weighted: weight of the face view
    epsilon: float | None = None       # fusion_consistent: chance of keeping a disagreement
    finetune_steps: int | None = None  # dcmkt_finetune: the last steps of the budget, on the labeled set


# The paper's own speech model (KBS 2021): STFT frames, no pitch tracks, the training pool's z-score alone, mean
# pooling, no re-recorded copies. ``get_config(preset, **PAPER_SETTING)`` or ``run(method, **PAPER_SETTING)``; lesson 02 compares it with
# the kit's default step by step.
PAPER_SETTING = dict(frontend="stft", pitch_tracks=False, norm="pool", track_norm="same", pooling="mean",
                     channel_copies=0)

# Keys that were renamed, and what to write instead.
RENAMED = {"features": "the key 'features' is now 'frontend' (the speech model's input: logmel or stft); the "
                       "classic methods' feature set is 'classic_features' (--features on the command line)"}

PRESETS: dict[str, dict[str, dict]] = {
    "quick": {
        "corpus": dict(n_speakers_a=12, n_speakers_b=16, n_train=160, n_unlabeled=240,
                       n_val=80, n_test=120, n_speakers_b_test=4, n_test_b=80, n_face_images=2400, n_face_identities=60,
                       n_frames=6, min_seconds=1.0, max_seconds=1.4),
        "train": dict(n_labeled=20, steps=60, eval_every=20, d_model=32, dim_ff=64,
                      n_layers=1, batch_size=16, mu=2, finetune_steps=30, face_epochs=15),
    },
    "default": {"corpus": {}, "train": {}},
    "full": {
        "corpus": dict(n_speakers_a=60, n_speakers_b=200, n_train=2400, n_unlabeled=12000,
                       n_val=800, n_test=1200, n_speakers_b_test=40, n_test_b=1200, n_face_images=20000, n_face_identities=800,
                       n_frames=16, min_seconds=1.5, max_seconds=4.0),
        "train": dict(n_labeled=150, steps=4000, eval_every=250, d_model=128, dim_ff=512,
                      n_layers=4, batch_size=64, mu=7, n_mels=80, finetune_steps=1000, crop_s=0.0),
    },
}

# Documented ranges: (low, high) inclusive, or a tuple of allowed values.
RANGES: dict[str, tuple] = {
    "classes": ("emotion4", "sentiment3"), "corpus_seed": (0, 2**31 - 1),
    "sr": (8000, 48000),
    "n_speakers_a": (4, 10_000), "n_speakers_b": (2, 100_000),
    "n_train": (8, 1_000_000), "n_unlabeled": (0, 10_000_000),
    "n_val": (4, 1_000_000), "n_test": (4, 1_000_000),
    "min_seconds": (0.3, 30.0), "max_seconds": (0.3, 30.0),
    "style": ("natural", "acted"), "intensity_min": (0.0, 1.0), "intensity_max": (0.0, 1.0),
    "intensity_a": (0.1, 100.0), "intensity_b": (0.1, 100.0), "expressivity_sd": (0.0, 2.0), "mixed": (0.0, 1.0),
    "n_raters": (1, 99), "rater_skill": (0.01, 10.0), "prior_b": ("auto", "wild", "same"),
    "pitch_range": ("auto", "contour", "targets"), "contour_match": (0.0, 1.0),
    "n_speakers_b_test": (0, 100_000), "n_test_b": (0, 1_000_000),
    "face_voice_agreement": (0.0, 1.0),
    "n_frames": (1, 256), "face_size": (32, 256),
    "n_face_images": (0, 10_000_000), "n_face_identities": (2, 1_000_000),
    "snr_db_a": (-10.0, 80.0), "snr_db_b": (-10.0, 80.0),
    "device": ("auto", "cpu", "cuda", "mps"),
    "n_labeled": (1, 1_000_000), "path_seed": (0, 2 ** 63 - 1),
    "frontend": ("logmel", "stft"), "attn_dropout": (0.0, 0.9), "classic_features": ("prosody", "logmel", "egemaps"),
    "n_fft": (64, 8192), "win_ms": (5.0, 200.0), "hop_ms": (1.0, 100.0), "n_mels": (8, 256),
    "norm": ("pool", "utterance_mean", "utterance", "speaker"),
    "track_norm": ("same", "pool", "utterance_mean", "utterance", "speaker"), "pooling": ("mean", "stats"),
    "channel_copies": (0, 16),
    "d_model": (8, 2048), "n_heads": (1, 64), "n_layers": (1, 48), "dim_ff": (8, 8192),
    "dropout": (0.0, 0.9), "subsample": (1, 16),
    "steps": (1, 10_000_000), "crop_s": (0.0, 600.0), "batch_size": (1, 65_536), "lr": (1e-7, 10.0),
    "weight_decay": (0.0, 1.0), "ema_eval": (0.0, 0.99999), "eval_every": (1, 10_000_000),
    "mu": (1, 64), "tau": (0.0, 1.0), "lambda_u": (0.0, 1000.0), "ramp": (0.0, 1.0),
    "ema_decay": (0.0, 0.99999), "te_alpha": (0.0, 0.999),
    "face_teacher": ("auto", "trained", "fer2013"), "fer_map": ("drop", "fold"),
    "face_arch": ("cnn", "mobilenetv3_small_050", "mobilenetv3_small_075", "mobilenetv3_small_100",
                  "mobilenetv3_large_100"),
    "face_epochs": (1, 1000), "face_lr": (1e-6, 1.0), "face_stem_stride": (1, 2), "face_head": ("linear", "timm"),
    "aggregate": ("mean", "max", "logit_mean", "vote"),
    "temperature": (0.01, 100.0), "alpha": (0.0, 1.0), "epsilon": (0.0, 1.0),
    "finetune_steps": (0, 10_000_000), "u_norm": ("batch", "kept"),
    "select": ("best", "last"), "amp": ("auto", "off", "bf16", "fp16"),
    "patience": (0, 1_000_000), "ceiling_max_steps": (1, 10_000_000),
}

# Optional knobs that are not floats (None: the method's own default; channel_copies: the corpus's).
OPTIONAL_KINDS = {"specaugment": bool, "soft_targets": bool, "u_norm": str, "finetune_steps": int,
                  "channel_copies": int, "path_seed": int}


class ConfigError(ValueError):
    """A configuration value that is unknown or out of its documented range."""


def check_value(key: str, value):
    """Raise ConfigError naming ``key``, its value and its range if out of range."""
    rng = RANGES.get(key)
    if rng is None or value is None:
        return
    if isinstance(rng[0], str):
        if value not in rng:
            raise ConfigError(f"{key}={value!r} is not allowed; choose one of {', '.join(rng)}")
    elif not (rng[0] <= value <= rng[1]):
        raise ConfigError(f"{key}={value!r} is out of range; allowed range is [{rng[0]}, {rng[1]}]")


def _check_type(key: str, value, default) -> None:
    """The value must have its field's kind: an int for an int, a number for a float.

    Optional method knobs (default None) take None or their kind
    (``OPTIONAL_KINDS``, else a number)."""
    kind = type(default) if default is not None else OPTIONAL_KINDS.get(key, float)
    if default is not None or value is not None:
        if kind is bool:
            ok = isinstance(value, bool)
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        else:
            ok = isinstance(value, kind)
        if not ok:
            raise ConfigError(f"{key}={value!r}: expected {'an' if kind is int else 'a'} {kind.__name__}"
                              + (f" in [{RANGES[key][0]}, {RANGES[key][1]}]" if key in RANGES and not isinstance(RANGES[key][0], str) else ""))


def validate(cfg) -> None:
    """Check every field of a config against its kind and documented range; ConfigError names the key."""
    for f in dataclasses.fields(cfg):
        _check_type(f.name, getattr(cfg, f.name), f.default)
        check_value(f.name, getattr(cfg, f.name))
    if isinstance(cfg, CorpusConfig):
        if cfg.min_seconds > cfg.max_seconds:
            raise ConfigError(f"min_seconds={cfg.min_seconds} must not exceed max_seconds={cfg.max_seconds}")
        if cfg.intensity_min > cfg.intensity_max:
            raise ConfigError(f"intensity_min={cfg.intensity_min} must not exceed intensity_max={cfg.intensity_max}")
    if isinstance(cfg, TrainConfig) and cfg.d_model % cfg.n_heads:
        raise ConfigError(f"d_model={cfg.d_model} must be divisible by n_heads={cfg.n_heads}")


def _coerce(cfg, key: str, value):
    """Turn a command-line string into the field's type (bool, int, float, str)."""
    current = getattr(cfg, key)
    if not isinstance(value, str) or isinstance(current, str):
        return value
    if current is None and value.lower() == "none":
        return None
    kind = OPTIONAL_KINDS.get(key, float) if current is None else type(current)
    if kind is str:
        return value
    try:
        if kind is bool:
            if value.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError
            return value.lower() in ("1", "true", "yes")
        return kind(value)
    except ValueError:
        what = "number" if kind is float and current is None else kind.__name__
        raise ConfigError(f"{key}={value!r}: expected a {what}" + (" or none" if current is None else "")) from None


def default_preset() -> str:
    """The preset named by the environment variable SERTOOLS_PRESET, else ``default``."""
    return os.environ.get("SERTOOLS_PRESET", "default")


def get_config(preset: str | None = None, **overrides) -> tuple[CorpusConfig, TrainConfig]:
    """Both configs of a preset, with ``overrides`` (any field of either) applied.

    Unknown keys and values out of range raise ``ConfigError`` naming the
    key and the allowed range.
    """
    preset = preset or default_preset()
    if preset not in PRESETS:
        raise ConfigError(f"preset={preset!r} is not known; choose one of {', '.join(PRESETS)}")
    corpus = CorpusConfig(**PRESETS[preset]["corpus"])
    train = TrainConfig(**PRESETS[preset]["train"])
    for key, value in overrides.items():
        targets = [c for c in (corpus, train) if hasattr(c, key)]
        if not targets and key in RENAMED:
            raise ConfigError(RENAMED[key])
        if not targets:
            known = sorted({f.name for c in (corpus, train) for f in dataclasses.fields(c)})
            raise ConfigError(f"unknown config key {key!r}; known keys: {', '.join(known)}")
        for c in targets:
            setattr(c, key, _coerce(c, key, value))
    validate(corpus)
    validate(train)
    return corpus, train


def parse_sets(pairs: list[str] | None) -> dict:
    """``["tau=0.9", "mu=2"]`` -> ``{"tau": "0.9", "mu": "2"}`` (types are coerced later)."""
    out = {}
    for p in pairs or []:
        if "=" not in p:
            raise ConfigError(f"--set expects key=value, got {p!r}")
        k, v = p.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def config_hash(*cfgs, extra: dict | None = None) -> str:
    """A short stable hash of configs (and extras), for cache keys and run ids."""
    blob = json.dumps([dataclasses.asdict(c) for c in cfgs] + [extra or {}], sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


# The fields each cached stage reads, from CorpusConfig and TrainConfig: its cache key is made from
# these and nothing else (``stage_key``), so a field a stage reads cannot be missing from its key.
# tests/test_config.py checks that the features and views steps read no other field.
_FACE_SET = ("corpus_seed", "classes", "face_size", "n_face_images", "n_face_identities")
_TEACHER = _FACE_SET + ("face_arch", "face_epochs", "face_lr", "face_stem_stride", "face_head")
_FEATURES = ("frontend", "n_fft", "win_ms", "hop_ms", "n_mels", "pitch_tracks")
STAGE_FIELDS = {
    "face_set": _FACE_SET,                                                   # synth.corpus.face_image_set
    "teacher": _TEACHER,                                                     # teacher.train_teacher
    "face_dist": _TEACHER + ("face_teacher", "fer_map", "aggregate"),        # teacher.clip_distributions
    "features": _FEATURES,                                                   # audio.corpus_features
    "views": _FEATURES + ("norm", "track_norm", "channel_copies", "n_labeled", "seed"),        # experiment.get_views
}


def stage_fields(stage: str, *cfgs) -> dict:
    """{field: value} of the fields ``stage`` reads (``STAGE_FIELDS``), taken
    from whichever of ``cfgs`` has each one."""
    out = {}
    for name in STAGE_FIELDS[stage]:
        holder = next((c for c in cfgs if hasattr(c, name)), None)
        if holder is None:
            raise KeyError(f"stage {stage!r} reads {name!r}, which none of the configs given has")
        out[name] = getattr(holder, name)
    return out


def stage_key(stage: str, *cfgs, extra: dict | None = None) -> str:
    """The cache key of a stage's output: a hash of the fields it reads (and ``extra``)."""
    return config_hash(extra={"stage": stage, **stage_fields(stage, *cfgs), **(extra or {})})


def class_names(classes: str) -> tuple[str, ...]:
    """The class names of a class set: ``emotion4`` (neutral, happy, sad, angry) or the sentiments."""
    return EMOTIONS if classes == "emotion4" else SENTIMENTS
