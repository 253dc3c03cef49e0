"""A large calendar cut into self-contained calendars, and worker processes that read them.

Contract:
- ``split_calendar(text, parts, min_events=…)`` cuts the text of one iCalendar file into at
  most ``parts`` calendars without parsing it: each holds a share of the top-level VEVENT
  blocks — all VEVENTs of one UID in the same calendar, in file order (a RECURRENCE-ID
  override stays with its series; VEVENTs without UID are grouped by the digits of their
  DTSTART) — and everything else of the file unchanged in its place: the calendar's own
  properties (X-WR-TIMEZONE …), VTIMEZONEs and other components, wherever they stand. Each
  result is a byte-for-byte subsequence of the file's lines, so icalendar reads in it exactly
  the components it would read in the whole file. The shares are contiguous runs of UIDs in
  the order of their first appearance, balanced by size. (The grouping errs on the safe side
  but need not be exact: ``parse_ics`` checks that no UID was read in two parts.) It raises
  ``Unsplittable`` (with the reason) — read the file as a whole — when the file has fewer
  than ``min_events`` VEVENTs, when fewer than two shares come out, or when its structure is
  not plainly clean: anything but one VCALENDAR that ends the file, BEGIN/END lines that are
  unbalanced, carry parameters or differ from ``BEGIN:NAME`` / ``END:NAME``, a VEVENT
  inside another component, a property outside the VCALENDAR, or a VEVENT with several,
  empty or parametrised UID lines.
- ``ChunkWorkers(target, chunks, *args)`` runs ``target(chunk, *args)`` — a generator
  function of a module without Scrapy — in one process per chunk and gives each chunk's
  yielded values, in order, through ``messages(index)``; while the caller waits for one chunk
  it keeps reading the others, so no worker stalls on a full pipe. The processes come from
  the "forkserver" context ("spawn" where there is none) — never a ``fork`` of the caller,
  which runs Scrapy's threads — with ``spiders.ics_parse`` and the caller's main module
  preloaded into the server once. A worker ends when its generator is exhausted, when the
  caller closes ``ChunkWorkers`` (it is a context manager; leaving it terminates what still
  runs) and — even if the caller was killed — as soon as the caller's process has ended.
  ``messages`` raises ``WorkerDied`` if a worker ends without finishing.
- ``warm_up()`` starts the forkserver ahead of ``ChunkWorkers``; ``usable_cores()``: the
  CPUs this process may run on.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import re
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from icalendar.parser import unescape_backslash

from core.gctune import tune_gc

# A logical line's name: what precedes the first of these (RFC 5545 3.1; icalendar also
# ends a name at a quote or backslash, which makes the line unreadable either way).
_NAME_END = re.compile(r'[:;"\\]')
_STRUCTURE = re.compile(r"(BEGIN|END):([A-Za-z0-9-]+)", re.IGNORECASE)
_NOT_DIGIT = re.compile(r"[^0-9]")
_PRELOAD = "spiders.ics_parse"


class Unsplittable(ValueError):
    """Why ``split_calendar`` leaves a file whole."""


class WorkerDied(RuntimeError):
    """A chunk's worker process ended before its work was done (killed, out of memory)."""


def usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# --- cutting ---------------------------------------------------------------------------


def _logical_lines(text: str) -> Iterator[tuple[int, int, str]]:
    """(start offset, end offset, unfolded text) of every content line.

    The lines icalendar sees (``Contentlines.from_ical``): raw lines end at LF or CRLF (a
    lone CR is text), a line starting with a space or tab continues the one before (empty
    lines in between included), empty lines are dropped. The end offset is that of the next
    raw line, so cutting at these offsets never separates a line from its continuation.
    """
    start = end = -1
    parts: list[str] = []
    position = 0
    for raw in text.split("\n"):
        begin = position
        position += len(raw) + 1
        if raw[-1:] == "\r":
            raw = raw[:-1]
        if not raw:
            continue
        if raw[0] in " \t" and start >= 0:
            parts.append(raw[1:])
            end = position
            continue
        if start >= 0:
            yield start, end, parts[0] if len(parts) == 1 else "".join(parts)
        start, end, parts = begin, position, [raw]
    if start >= 0:
        yield start, end, "".join(parts)


def _name(line: str) -> str:
    match = _NAME_END.search(line)
    head = line[: match.start()] if match else line
    # icalendar ignores whitespace in names (non-strict parsing): so must we.
    return "".join(head.split()).upper()


def _blocks(text: str) -> list[tuple[int, int, tuple[str, str]]]:
    """The top-level VEVENT blocks as (start offset, end offset, group key); raises
    ``Unsplittable`` when the structure is not plainly clean (see the module's contract)."""
    return [(start, end, key) for start, end, key, _ in event_blocks(text, keep_lines=False)]


def event_blocks(
    text: str, *, keep_lines: bool = True
) -> list[tuple[int, int, tuple[str, str], list[str]]]:
    """``_blocks`` with, for each VEVENT, its unfolded content lines between BEGIN:VEVENT and
    END:VEVENT (nested components' lines included; empty with ``keep_lines=False``)."""
    stack: list[str] = []
    closed = False
    blocks: list[tuple[int, int, tuple[str, str], list[str]]] = []
    event_start = -1
    uid: str | None = None
    dtstart: str | None = None
    lines: list[str] = []
    for start, end, line in _logical_lines(text):
        if closed:
            raise Unsplittable("content after END:VCALENDAR")
        first = line[0]
        # Only a line whose first non-blank character is B or E can be BEGIN or END: the
        # others (most lines) need no closer look.
        if line.startswith(("BEGIN:", "END:")) or (
            (first in "bBeE" or first.isspace()) and _name(line) in ("BEGIN", "END")
        ):
            match = _STRUCTURE.fullmatch(line)
            if match is None:
                raise Unsplittable(f"an unusual BEGIN/END line: {line[:40]!r}")
            component = match.group(2).upper()
            if match.group(1).upper() == "BEGIN":
                if (component == "VCALENDAR") == bool(stack):
                    raise Unsplittable("not one VCALENDAR around everything")
                if component == "VEVENT":
                    if len(stack) != 1:
                        raise Unsplittable("a VEVENT inside another component")
                    event_start, uid, dtstart, lines = start, None, None, []
                elif keep_lines and len(stack) > 1 and stack[1] == "VEVENT":
                    lines.append(line)  # a component inside the VEVENT (VALARM)
                stack.append(component)
                continue
            if not stack or stack.pop() != component:
                raise Unsplittable(f"unbalanced BEGIN/END at END:{component}")
            if component == "VEVENT":
                key = ("uid", uid) if uid is not None else ("dtstart", dtstart or "")
                blocks.append((event_start, end, key, lines))
            elif keep_lines and len(stack) > 1 and stack[1] == "VEVENT":
                lines.append(line)
            closed = not stack
            continue
        if not stack:
            raise Unsplittable("a property outside the VCALENDAR")
        if len(stack) < 2 or stack[1] != "VEVENT":
            continue
        if keep_lines:
            lines.append(line)
        if len(stack) != 2:
            continue
        # The group keys need not be exact: parse_ics checks that no UID ended up in two
        # parts. Exact here means fewer files read in one piece.
        if first in "uU" and line[:4].upper() in ("UID:", "UID;"):
            if uid is not None or line[3] == ";":
                # Several UIDs, or parameters that could change how it is read.
                raise Unsplittable("a VEVENT with several UIDs or UID parameters")
            # The value as icalendar reads it (a TEXT) and as the reader compares it.
            uid = unescape_backslash(line[4:]).strip()
            if not uid:
                raise Unsplittable("a VEVENT with an empty UID")
        elif first in "dD" and dtstart is None and line[:7].upper() == "DTSTART":
            dtstart = _NOT_DIGIT.sub("", line.rpartition(":")[2])
    if not closed:
        raise Unsplittable("no END:VCALENDAR")
    return blocks


def split_calendar(text: str, parts: int, *, min_events: int) -> list[str]:
    if parts < 2:
        raise Unsplittable("one part")
    blocks = _blocks(text)
    if len(blocks) < max(min_events, 2):
        raise Unsplittable(f"{len(blocks)} VEVENTs")
    sizes: dict[tuple[str, str], int] = {}
    for start, end, key in blocks:  # dicts keep the order of first appearance
        sizes[key] = sizes.get(key, 0) + end - start
    target = sum(sizes.values()) / parts
    share: dict[tuple[str, str], int] = {}
    done = 0
    for key, size in sizes.items():
        # The share in which the middle of this UID's VEVENTs falls: never decreasing.
        share[key] = min(int((done + size / 2) / target), parts - 1)
        done += size
    used = sorted(set(share.values()))
    if len(used) < 2:
        raise Unsplittable("all VEVENTs fall into one share (one UID holds most)")
    chunks = []
    for number in used:
        pieces = []
        position = 0
        for start, end, key in blocks:
            pieces.append(text[position:start])
            if share[key] == number:
                pieces.append(text[start:end])
            position = end
        pieces.append(text[position:])
        chunks.append("".join(pieces))
    return chunks


# --- running ---------------------------------------------------------------------------


class _Done:
    """Sent by a worker after its last value."""


class _Failed:
    """Sent by a worker whose target raised: the error, for the parent to raise."""

    def __init__(self, error: str) -> None:
        self.error = error


class _Gone:
    """Put in the inbox when a worker's pipe closed before it sent ``_Done``."""


def _exit_with_parent() -> None:
    # As spiders.worker does for the crawl: a worker whose parent died has no one to read its
    # results. Not os.getppid(): the parent of a forkserver's child is the server, which lives
    # on as long as any of its children does. multiprocessing gives each child a pipe from
    # the process that started it, which ends (becomes readable) when that process ends.
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        wait([sentinel])
        os._exit(70)

    threading.Thread(target=watch, name="famcal-parent-watch", daemon=True).start()


def _work(target: Callable[..., Iterator[Any]], conn: Connection, *args: Any) -> None:
    _exit_with_parent()
    tune_gc()  # a part's parse builds tens of thousands of components: see core.gctune
    try:
        for message in target(*args):
            conn.send(message)
    except Exception as exc:  # reported to the parent, which raises it as WorkerDied
        conn.send(_Failed(f"{type(exc).__name__}: {exc}"))
    else:
        conn.send(_Done())
    conn.close()


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Every worker imports the parent's main module (multiprocessing's rule); the crawl's is
    # spiders.worker, which loads Scrapy. Loaded once in the server, it is inherited for free.
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    name = getattr(spec, "name", None) or ("__main__" if hasattr(main, "__file__") else None)
    context.set_forkserver_preload([_PRELOAD] + ([name] if name else []))
    return context


def warm_up() -> None:
    """Start the forkserver now, so that its imports run while the caller cuts the file."""
    if _context().get_start_method() == "forkserver":
        multiprocessing.forkserver.ensure_running()


class ChunkWorkers:
    def __init__(
        self, target: Callable[..., Iterator[Any]], chunks: Sequence[Any], *args: Any
    ) -> None:
        context = _context()
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._conns: list[Connection] = []
        self._inbox: list[deque[Any]] = [deque() for _ in chunks]
        self._open: set[int] = set()
        try:
            for index, chunk in enumerate(chunks):
                ours, theirs = context.Pipe(duplex=False)
                process = context.Process(  # type: ignore[attr-defined]
                    target=_work,
                    args=(target, theirs, chunk, *args),
                    name=f"famcal-ics-chunk-{index}",
                    daemon=True,  # also ended by multiprocessing when the parent exits
                )
                process.start()
                theirs.close()  # ours sees EOF when the worker ends
                self._processes.append(process)
                self._conns.append(ours)
                self._open.add(index)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> ChunkWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _receive(self, block: bool) -> None:
        """Move what has arrived from any worker into its inbox."""
        ready = wait([self._conns[i] for i in self._open], timeout=None if block else 0)
        for conn in ready:
            index = self._conns.index(conn)  # type: ignore[arg-type]
            try:
                message = self._conns[index].recv()
            except EOFError:
                message = _Gone()
            if isinstance(message, _Done | _Failed | _Gone):
                self._open.discard(index)
            self._inbox[index].append(message)

    def messages(self, index: int) -> Iterator[Any]:
        """What the worker of chunk ``index`` yielded, in order."""
        inbox = self._inbox[index]
        while True:
            if not inbox:
                if index not in self._open:
                    return  # read to the end before
                self._receive(block=True)
                continue
            self._receive(block=False)  # keep the other workers' pipes flowing
            message = inbox.popleft()
            if isinstance(message, _Done):
                return
            if isinstance(message, _Failed):
                raise WorkerDied(f"chunk worker {index} failed: {message.error}")
            if isinstance(message, _Gone):
                self._processes[index].join(1)
                code = self._processes[index].exitcode
                raise WorkerDied(f"chunk worker {index} ended early (exit code {code})")
            yield message

    def close(self) -> None:
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        for process in self._processes:
            process.join()
        for conn in self._conns:
            conn.close()
        self._open.clear()
