"""The run store: one folder per finished run, found again by its key.

Every run is stored as ``runs/<method>-<hash>/`` holding its record
(configuration, seed, history, metrics, timings, kit version). The hash
covers everything that decides the result (corpus, both configs, the method
and its effective parameters, the seed, the kit's version), so asking again
for the same run returns the stored one instead of training again.

Safe for many writers at once (worker processes, or the machines of a
cluster sharing the folder):

- A run is written to a temporary folder and renamed into place when
  complete, so a reader never sees half a run, and an interrupted grid
  loses only the runs in progress.
- Before training, a worker claims the key with a lock file created
  atomically (``O_CREAT | O_EXCL``) that names its owner (host, process,
  time). A second worker asking for the same key waits for the first one's
  record instead of computing it again, so no cell is computed or counted
  twice. A lock whose owner is gone (a dead process on this host, or older
  than ``STALE_AFTER`` seconds on another host) is taken over, so a grid
  stopped by Ctrl-C or a crash resumes where it stopped.
- A stored record that cannot be read (a damaged file) is reported
  (``RunStore.damaged``, and on stderr), moved aside and computed again.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from . import __version__
from .config import config_hash, get_config
from .core import RunRecord

FACE_KNOBS = {"face_teacher", "fer_map", "face_arch", "face_epochs", "face_lr", "face_stem_stride", "face_head", "aggregate"}
COMPARISON_KNOBS = {"ceiling_max_steps"}  # read by the comparison to build its cells, never by a run
STALE_AFTER = 6 * 3600   # seconds: a lock held longer by another host is taken as abandoned
POLL = 1.0               # seconds between looks at a key another worker is computing


class RunStore:
    """A folder of finished runs, looked up by (method, corpus, configs, seed)."""

    def __init__(self, root=None):
        self.root = Path(root or os.environ.get("SERTOOLS_RESULTS", "results")).absolute()
        self.damaged: list[str] = []

    def key(self, method: str, corpus: str, preset: str | None, overrides: dict) -> str:
        """The run's id: everything that decides its result, and nothing else.

        A deep method's knobs enter through its effective parameters, so the
        supervised run does not change when ``tau`` does, and ``tau=None``
        (the method's default) is the same run as the default's value.
        """
        from .methods import METHODS, make_method
        ccfg, tcfg = get_config(preset, **overrides)
        train = {k: v for k, v in asdict(tcfg).items() if k not in COMPARISON_KNOBS}
        params = {}
        if method in METHODS:
            knobs = {k for m in METHODS.values() for k in m.defaults} | {"classic_features"}
            if not METHODS[method].needs_face:  # the face teacher's knobs matter only to the cross-modal methods
                knobs |= FACE_KNOBS
            train = {k: v for k, v in train.items() if k not in knobs}
            params = make_method(method, tcfg).params()
        return f"{method}-" + config_hash(ccfg, extra={"method": method, "corpus": corpus, "version": __version__,
                                                       "train": train, "params": params})

    def path(self, key: str) -> Path:
        """The folder of run ``key``: ``<root>/runs/<key>``."""
        return self.root / "runs" / key

    def get(self, key: str) -> RunRecord | None:
        """The stored record, or None if there is none or it is damaged
        (then it is reported, moved aside to ``runs/.damaged-<key>-<time>``, and
        the next ``run`` computes it again)."""
        p = self.path(key)
        if not (p / "record.json").exists():
            return None
        try:
            return RunRecord.load(p)
        except Exception as e:  # a damaged record: JSON, npz or missing file
            msg = f"{key}: stored record is damaged ({type(e).__name__}: {e}); computing it again"
            self.damaged.append(msg)
            print(f"! {msg}", file=sys.stderr)
            try:
                os.replace(p, p.parent / f".damaged-{key}-{int(time.time())}")
            except OSError:
                pass
            return None

    def put(self, key: str, record: RunRecord) -> Path:
        """Store atomically: write a temporary folder, then rename it into place."""
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-"))
        try:
            record.config["version"] = __version__
            record.state_dict = None  # the store keeps results; weights stay in memory
            record.save(tmp)
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
        return final

    # --- claiming a key (one worker computes a cell, the others wait) ---

    def _lock(self, key: str) -> Path:
        return self.root / "runs" / f".lock-{key}"

    def claim(self, key: str) -> bool:
        """Take the key's lock; False if a live owner holds it."""
        lock = self._lock(key)
        lock.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if not self._stale(lock):
                    return False
                lock.unlink(missing_ok=True)  # abandoned: take it over
                continue
            with os.fdopen(fd, "w") as f:
                json.dump({"host": socket.gethostname(), "pid": os.getpid(), "time": time.time()}, f)
            return True
        return False

    def release(self, key: str) -> None:
        """Remove the key's lock file (nothing happens when there is none)."""
        self._lock(key).unlink(missing_ok=True)

    @staticmethod
    def _stale(lock: Path) -> bool:
        try:
            owner = json.loads(lock.read_text())
        except (OSError, ValueError):  # being written right now, or gone
            return lock.exists() and time.time() - lock.stat().st_mtime > 60
        if owner.get("host") == socket.gethostname():
            try:
                os.kill(int(owner["pid"]), 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                return False
            return False
        return time.time() - float(owner.get("time", 0)) > STALE_AFTER

    def run(self, method: str, seed: int = 0, preset: str | None = None, corpus: str = "builtin",
            rerun: bool = False, progress: bool = True, **overrides) -> RunRecord:
        """The stored run if there is one (unless ``rerun``), else train, store and return it.

        If another worker is computing the same key, wait for its record."""
        overrides = {**overrides, "seed": seed}
        key = self.key(method, corpus, preset, overrides)
        while True:
            if not rerun and (rec := self.get(key)) is not None:
                return rec
            if self.claim(key):
                break
            time.sleep(POLL)
        try:
            if not rerun and (rec := self.get(key)) is not None:  # finished while we waited for the lock
                return rec
            rec = run_any(method, preset=preset, corpus=corpus, progress=progress, **overrides)
            self.put(key, rec)
            return rec
        finally:
            self.release(key)

    def records(self) -> list[RunRecord]:
        """Every readable stored record, by folder name; a damaged one is
        reported and moved aside, as ``get`` does."""
        return [r for p in sorted((self.root / "runs").glob("*")) if not p.name.startswith(".")
                and (p / "record.json").exists() and (r := self.get(p.name)) is not None]


CLASSIC_GROUP = "Classic (handcrafted features)"


def method_groups() -> dict[str, list[str]]:
    """Every method the store can run, in the paper's Table 3 groups and order
    (``methods.GROUPS``), and the classic methods after them."""
    from .classic import CLASSIC_METHODS
    from .methods import GROUPS
    return {**GROUPS, CLASSIC_GROUP: list(CLASSIC_METHODS)}


def all_methods() -> list[str]:
    """Every method name, in table order: the deep methods, then the classic ones."""
    return [m for ms in method_groups().values() for m in ms]


def run_any(method: str, **kw) -> RunRecord:
    """A deep method through ``experiment.run``, a classic one through ``classic.run``."""
    from .classic import CLASSIC_METHODS
    if method in CLASSIC_METHODS:
        from .classic import run as classic_run
        return classic_run(method, **kw)
    from .experiment import run
    return run(method, **kw)
