"""Worker processes for the resampling procedures (bootstrap): one safe start method."""

from __future__ import annotations

import threading
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext


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
