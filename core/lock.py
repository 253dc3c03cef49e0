"""The run lock: one famcal pipeline command at a time per database.

Contract: ``run_lock(db_path, wait=…, since=…, command=…)`` is a context manager holding an
exclusive ``fcntl.flock`` on ``<db>.lock`` (next to the database) for its body. When another process
holds it, it retries until ``wait`` seconds have passed (0: not at all) and then raises
``LockBusy``, whose message names the holder ("another famcal run holds the lock (pid N
since T, famcal run)"). The lock file keeps the holder's line ("pid N since T, command")
for that message. The kernel releases a flock when its process ends in any way — SIGKILL included —
so a killed run never leaves a stale lock behind; the file itself stays and is reused.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_SECONDS = 0.2


class LockBusy(RuntimeError):
    """Another process holds the lock; the message names it."""


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


@contextmanager
def run_lock(db_path: Path, *, wait: float = 0.0, since: str, command: str) -> Iterator[Path]:
    """Hold ``<db>.lock`` for the body; ``since`` (wall-clock text) and ``command`` name us."""
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Opened without truncating: the holder's line must survive until we own the lock.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockBusy(_busy_message(path, wait)) from None
                time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {since}, {command}\n".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)  # released on close; an empty file means "nobody"
    finally:
        os.close(fd)


def _busy_message(path: Path, wait: float) -> str:
    try:
        line = path.read_text(encoding="utf-8").strip()
    except OSError:
        line = ""
    who = f" ({line})" if line else ""
    waited = f" after waiting {wait:g} s" if wait > 0 else ""
    return f"another famcal run holds the lock{who}{waited}: {path}"
