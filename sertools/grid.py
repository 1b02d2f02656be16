"""The comparison grid: independent runs (cells), in order, on a machine's cores, or on a cluster.

A comparison is a grid of cells, methods x seeds x label budgets x corpus
knobs, each stored under a key of its own in the run store
(``sertools.store``). Cells share nothing but the store and the disk cache,
so they can run anywhere that sees both:

- ``jobs=1``: one after another, in this process.
- ``jobs=N``: N worker processes on this machine through joblib's ``loky``
  backend.
- ``scheduler="local"`` or ``"tcp://HOST:8786"``: a Dask distributed cluster
  (``pip install 'sertools[cluster]'``), a ``LocalCluster`` of ``jobs``
  workers or the scheduler at that address. The workers must see the same
  results folder (a shared file system) and the same kit.

Every cell runs single-threaded wherever it runs (``CELL_THREADS``): the
kit's models are tiny, a second thread buys nothing, two processes of two
threads on two cores slow each other down badly, and one thread makes a
cell's numbers the same in a worker as in this process (thread counts
change the order of floating-point sums). What the cells share (the corpus,
its features, the face teacher and its clip distributions, the classic
features) is prepared once by ``prepare`` before any worker starts; the
workers find it in the disk cache.

A cell that fails (a NaN loss, a bad knob) becomes a failed ``Outcome``
with the reason; the other cells go on.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from .store import RunStore

CELL_THREADS = 1
# A worker keeps the corpus and its views in memory between cells (the kit's
# session cache, ``experiment.get_views``), hundreds of MB on the default
# preset. loky reads more than 300 MB of growth after a worker's first task
# as a leak and restarts the worker, which then imports torch and loads the
# corpus again for every cell; this is the allowance a worker gets instead.
WORKER_MEMORY_ALLOWANCE = 16 * 2 ** 30


def _allow_worker_cache() -> None:
    try:
        from joblib.externals.loky import process_executor
    except ImportError:
        return
    process_executor._MAX_MEMORY_LEAK_SIZE = max(process_executor._MAX_MEMORY_LEAK_SIZE, WORKER_MEMORY_ALLOWANCE)


@dataclass(frozen=True)
class Cell:
    """One run of the grid: a method, a seed and the knobs it adds to the grid's own.

    method : a deep or classic method name; seed : the run's seed;
    knobs : (name, value) pairs, sorted by ``of`` so that equal knobs make equal cells
    """
    method: str
    seed: int
    knobs: tuple = ()  # sorted (key, value) pairs

    @classmethod
    def of(cls, method: str, seed: int, **knobs) -> "Cell":
        """The cell of ``method`` and ``seed`` with ``knobs`` given as keywords."""
        return cls(method, seed, tuple(sorted(knobs.items())))

    @property
    def overrides(self) -> dict:
        """The knobs as a dict, as ``RunStore.run`` takes them."""
        return dict(self.knobs)

    def __str__(self):
        extra = "".join(f", {k}={v}" for k, v in self.knobs)
        return f"{self.method} (seed {self.seed}{extra})"


@dataclass
class Outcome:
    """What became of a cell: its store key, UA and seconds, or why it failed.

    cell, key : the cell and its run-store key; ok : whether it finished
    ua, seconds : the run's test UA (%) and recorded seconds (NaN and 0 when it failed)
    message : why it failed; worker : "host:pid" of the process that ran it
    damaged : damaged stored records the worker found and recomputed
    """
    cell: Cell
    key: str
    ok: bool
    ua: float = float("nan")
    seconds: float = 0.0
    message: str = ""
    worker: str = field(default="", compare=False)
    damaged: list = field(default_factory=list, compare=False)  # damaged records found and recomputed


def prepare(methods, preset=None, corpus: str = "builtin", progress: bool = True, **overrides) -> None:
    """Compute what the cells share, once, into the disk cache: the corpus
    (which also checks it: a missing folder or a wrong layout raises here,
    before any cell starts), its features, the face teacher's clip
    distributions when a cross-modal method is in the grid, and the classic
    methods' features."""
    from .classic import CLASSIC_METHODS, clip_features
    from .config import get_config
    from .experiment import get_clips, get_views
    from .methods import METHODS
    ccfg, tcfg = get_config(preset, **overrides)
    clips = get_clips(corpus, ccfg, progress=progress)
    deep = [m for m in methods if m in METHODS]
    if deep:
        get_views(corpus, ccfg, tcfg, with_face=any(METHODS[m].needs_face for m in deep), progress=progress)
    if any(m in CLASSIC_METHODS for m in methods):
        clip_features(clips, tcfg.classic_features, tcfg, progress=progress)


def run_cell(root, cell: Cell, preset, corpus: str, common: dict, rerun: bool = False) -> Outcome:
    """Run (or find) one cell in the store at ``root``: what every worker calls."""
    from .core import TrainingError
    _allow_worker_cache()
    threads = torch.get_num_threads()
    torch.set_num_threads(CELL_THREADS)
    store = RunStore(root)
    overrides = {**common, **cell.overrides}
    worker, key = f"{os.uname().nodename}:{os.getpid()}", ""
    try:
        key = store.key(cell.method, corpus, preset, {**overrides, "seed": cell.seed})
        from threadpoolctl import threadpool_limits
        with threadpool_limits(CELL_THREADS):
            rec = store.run(cell.method, seed=cell.seed, preset=preset, corpus=corpus, rerun=rerun,
                            progress=False, **overrides)
        return Outcome(cell, key, True, rec.metrics["ua"], rec.seconds, worker=worker, damaged=store.damaged)
    except TrainingError as e:
        return Outcome(cell, key, False, message=f"failed: {e}", worker=worker, damaged=store.damaged)
    except Exception as e:  # one broken cell must not cost the others
        return Outcome(cell, key, False, message=f"{type(e).__name__}: {e}", worker=worker, damaged=store.damaged)
    finally:
        torch.set_num_threads(threads)


def _results(cells, jobs: int, scheduler: str | None, args: tuple):
    """Outcomes as they land, from this process, loky workers or Dask."""
    if scheduler:
        yield from _dask_results(cells, jobs, scheduler, args)
    elif jobs <= 1:
        for c in cells:
            yield run_cell(args[0], c, *args[1:])
    else:
        from joblib import Parallel, delayed, parallel_config
        with parallel_config(backend="loky", inner_max_num_threads=CELL_THREADS):
            yield from Parallel(n_jobs=jobs, return_as="generator_unordered")(
                delayed(run_cell)(args[0], c, *args[1:]) for c in cells)


def _dask_results(cells, jobs: int, scheduler: str, args: tuple):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ValueError("a Dask scheduler needs Dask distributed: pip install 'sertools[cluster]'") from None
    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(scheduler, timeout="30s")
    try:
        futures = [client.submit(run_cell, args[0], c, *args[1:], pure=False) for c in cells]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_cells(store: RunStore, cells, preset=None, corpus: str = "builtin", common: dict | None = None,
              jobs: int = 1, scheduler: str | None = None, rerun: bool = False,
              progress: bool = True) -> list[Outcome]:
    """Run every cell (stored ones come back at once); outcomes in the cells' order.

    One progress bar for the grid, with its ETA; each finished cell is
    reported as it lands. ``jobs`` worker processes (loky), or a Dask
    ``scheduler`` ("local" or an address).
    """
    cells = list(dict.fromkeys(cells))
    args = (str(store.root), preset, corpus, dict(common or {}), rerun)
    done: dict[Cell, Outcome] = {}
    with tqdm(total=len(cells), desc="grid", unit="run", disable=not progress) as bar:
        for out in _results(cells, jobs, scheduler, args):
            done[out.cell] = out
            bar.update()
            if progress:
                what = f"UA {out.ua:.1f} % in {out.seconds:.0f} s" if out.ok else out.message
                bar.write(f"{'+' if out.ok else '!'} {out.cell}: {what}")
            store.damaged += out.damaged
    if not progress:
        for o in done.values():
            if not o.ok:
                print(f"! {o.cell}: {o.message}")
    return [done[c] for c in cells]
