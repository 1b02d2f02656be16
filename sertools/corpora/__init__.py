"""Corpora: the built-in simulation, or a real corpus from a folder on disk.

``load_corpus("builtin", ccfg)`` returns the simulation for a corpus config;
``load_corpus("ravdess:/data/RAVDESS")`` and the like read real corpora,
one adapter per file in this package. Every adapter returns a ``Clips``.
"""
from __future__ import annotations

from ..clips import Clips

ADAPTERS = ("builtin", "folder", "ravdess", "cremad", "iemocap", "chsims")


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"ravdess:/data/x"`` -> ``("ravdess", "/data/x")``; ``"builtin"`` -> ``("builtin", None)``."""
    name, _, path = spec.partition(":")
    name = name.strip().lower()
    if name not in ADAPTERS:
        raise ValueError(f"--corpus {spec!r}: unknown corpus {name!r}; choose one of {', '.join(ADAPTERS)} "
                         f"(real corpora as NAME:PATH, e.g. ravdess:/data/RAVDESS)")
    if name != "builtin" and not path:
        raise ValueError(f"--corpus {spec!r}: {name} needs a folder, e.g. {name}:/path/to/{name}")
    return name, path or None


def load_corpus(spec: str = "builtin", ccfg=None, progress: bool = True, **options) -> Clips:
    """Load the corpus named by ``spec`` (see module doc)."""
    name, path = parse_spec(spec)
    if name == "builtin":
        from ..config import get_config
        from ..synth.corpus import builtin_corpus
        return builtin_corpus(ccfg or get_config()[0], progress=progress)
    import importlib
    module = importlib.import_module(f".{name}", __name__)
    return module.load(path, progress=progress, **options)


def corpus_key(clips: Clips) -> str | None:
    """A cache key for a corpus's features (None: do not cache)."""
    if clips.name == "builtin" and "config" in clips.meta:
        from ..config import config_hash
        return f"builtin-{config_hash(clips.meta['config'])}"
    return clips.meta.get("cache_key")
