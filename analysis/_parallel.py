"""Worker processes for the resampling procedures (bootstrap): one safe start method."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext

import numpy as np


def process_context(preload: str) -> BaseContext:
    """``fork`` where it is safe, else ``forkserver`` preloading the module ``preload``.

    fork() copies only the calling thread, so it is avoided inside multi-threaded programs
    (a web server); the fork server then preloads the worker's module rather than the
    caller's ``__main__``.
    """
    if "fork" in get_all_start_methods() and threading.active_count() == 1:
        return get_context("fork")
    context = get_context("forkserver")
    context.set_forkserver_preload([preload])
    return context


def fill_rows(
    out: np.ndarray,
    task: Callable[..., np.ndarray],
    arguments: Mapping[tuple[int, int], tuple],
    *,
    workers: int,
    preload: str,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Fill ``out[a:b]`` with ``task(*arguments[(a, b)])`` for every chunk ``(a, b)``, in
    ``workers`` processes when more than one.

    ``progress(rows done, rows in out)`` is called in this process as chunks arrive; what the
    workers could not run (they cannot start in an interactive ``__main__``) runs here. When
    ``progress`` raises (e.g. to cancel the job), the queued chunks are dropped.
    """
    pending = dict(arguments)
    done = 0

    def finish(chunk: tuple[int, int], rows: np.ndarray) -> None:
        nonlocal done
        out[chunk[0] : chunk[1]] = rows
        del pending[chunk]
        done += chunk[1] - chunk[0]
        if progress is not None:
            progress(done, len(out))

    if workers > 1:
        try:
            with ProcessPoolExecutor(
                max_workers=workers, mp_context=process_context(preload)
            ) as pool:
                futures = {pool.submit(task, *args): chunk for chunk, args in arguments.items()}
                try:
                    for future in as_completed(futures):
                        finish(futures[future], future.result())
                except BaseException:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
        except BrokenProcessPool:
            pass
    for chunk, args in list(pending.items()):
        finish(chunk, task(*args))
