"""The processes that draw renditions: fresh interpreters that die with their parent.

A forked worker would inherit every open file of the process that made it, the daemon's
lock file among them, and would outlive a parent killed with SIGKILL: the lock then
stays taken by processes that are not the daemon. So workers are *spawned* (a new
interpreter that inherits only the pipes it needs), ask Linux to kill them when their
parent dies (``PR_SET_PDEATHSIG``), and exit at once if the parent is already gone.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

_PR_SET_PDEATHSIG = 1


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes that end when this process ends.

    The parent-death signal goes to a worker when the *thread* that started it ends:
    use the pool inside the function that made it (``with worker_pool(n) as pool:``).
    """
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )


def die_with_parent(parent: int) -> None:
    """In a worker: be killed when ``parent`` dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
