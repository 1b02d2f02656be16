"""Where computed things are kept: ``data/cache/`` of the checkout.

Set ``SERTOOLS_CACHE`` to use another folder (tests do). Every write is
atomic (write to a temporary file, then rename), so an interrupted run never
leaves a half-written file that a later run would trust.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


def cache_dir() -> Path:
    """The cache folder, created if needed: ``$SERTOOLS_CACHE``, else ``data/cache/``
    of a checkout, else ``~/.cache/sertools`` for an installed kit."""
    env = os.environ.get("SERTOOLS_CACHE")
    if env:
        d = Path(env)
    else:
        repo = Path(__file__).resolve().parent.parent
        d = repo / "data" / "cache" if (repo / "pyproject.toml").exists() else Path.home() / ".cache" / "sertools"
    d.mkdir(parents=True, exist_ok=True)
    return d


def atomic_write(path: Path, write) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``path`` in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def save_arrays(path: Path, **arrays) -> Path:
    """Atomically save named numpy arrays (uncompressed .npz: fast to load)."""
    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    return atomic_write(path, write)


def load_arrays(path: Path) -> dict:
    """The arrays of an .npz file, read into memory, as ``{name: array}`` (pickles refused)."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}
