"""Staged writes of the published folder: every file old or new, never partial.

Contract:
- ``write_staged(out_dir, files, report, prune=…, kept=…)``: the one way published files are
  written. Each (path, content) is compared with the published file (size, then byte for
  byte, as it is written) and, only when its bytes differ, written as it comes into the
  run's staging folder ``<out_dir>/.staging/`` (hidden: ``famcal serve`` and most web
  servers do not list dot folders). When every file is produced the folders they need are
  made (once each) and the staged files are renamed into place: first those under ``prune``
  (the event pages, which the index and list pages link to), then the rest in the order
  produced, so a visitor never follows a new link to a page not yet there.
  ``report.written`` lists the renamed files in that order, ``report.unchanged`` counts the
  others.
- ``stage_file(out_dir, name, data, tmp=…)`` does ``put``'s compare-and-stage for one file
  in any process (the site's event pages, in the workers that render them) while a
  ``write_staged`` of ``out_dir`` runs; the producer then yields the ``Staged`` it returned
  as the file's content, in the file's place in the order. A top folder not published yet
  whose files were all staged at their own path (``tmp`` = ``name``) is renamed into place
  whole, at its first file's turn (a first publish's event pages: one rename).
- A failure while the files are produced leaves every published file in place (the
  producer, a generator, is closed before the staging folder goes: its workers stop); a failed
  rename (disk full) leaves each file old or new; the staging folder never outlives a
  publish, and a killed publish's is removed by the next one.
- No flush to disk (no ``fsync``, no ``os.sync``): a killed or failed publish — the
  failures a publish meets — is covered by the renames alone, since every process sees
  the page cache. On a power loss within the kernel's writeback delay (seconds) a file
  renamed into place may still be empty or short on disk; each later publish compares the
  bytes and rewrites it, and the event pages a publish does not render are checked by size
  (``famcal.publish_stage``). A per-file fsync costs ~5 ms (minutes for the site's 20,000
  event files) and ``os.sync`` flushes every disk of the machine, other programs' too.
- ``prune`` names folders the run owns whole (the site's ``termine``): after the renames
  their files that the run neither wrote nor found unchanged nor named in ``kept`` (files
  the producer knew to be current without producing them; read after the last file) are
  removed (``report.removed``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from feeds.publish import Content, PublishReport

STAGING = ".staging"


@dataclass(frozen=True)
class Staged:
    """A file ``stage_file`` staged already: its name in the staging folder (``None`` when
    the published file holds its bytes) and its size."""

    tmp: str | None
    size: int


def stage_file(out_dir: Path, name: str, data: bytes, *, tmp: str) -> Staged:
    """Stage ``data`` for ``name`` as ``<staging folder>/<tmp>`` unless the published file
    holds exactly these bytes. ``tmp`` must be unique in the publish and not all digits (the
    names ``Staging.put`` gives); call it only while ``write_staged`` of ``out_dir`` runs
    (it removed the leftovers of a killed publish before)."""
    if _same_file(out_dir / name, len(data), data):
        return Staged(None, len(data))
    path = out_dir / STAGING / tmp
    try:
        try:
            path.write_bytes(data)
        except FileNotFoundError:  # no file staged yet: the folder is made on the first
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Staged(tmp, len(data))


class Staging:
    """Files staged in the run's staging folder and renamed into place by ``commit``."""

    def __init__(self, out_dir: Path, report: PublishReport) -> None:
        self.out_dir = out_dir
        self.report = report
        self.folder = out_dir / STAGING
        # (name in the staging folder, published name): plain strings, since a first
        # publish stages some 20,000 event files and a ``Path`` each cost its serial tail
        # about a second (issue #20); the paths are made where a file is touched.
        self.staged: list[tuple[str, str]] = []
        self.seen: set[str] = set()  # every name put, staged or unchanged
        self.remove_leftovers()

    def remove_leftovers(self) -> None:
        """Delete the staging folder a killed publish left behind (the caller holds the run
        lock, so no other publish is staging now)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def put(self, name: str, data: Content) -> None:
        """Stage ``data`` (bytes, or pieces of bytes written as they come) for ``name``,
        unless the published file already holds exactly these bytes."""
        self.seen.add(name)
        if isinstance(data, Staged):
            if data.tmp is None:
                self.report.unchanged += 1
            else:
                self.staged.append((data.tmp, name))
            return
        target = self.out_dir / name
        if isinstance(data, bytes):
            # Whole bytes at hand: compared before any staging file is written.
            if _same_file(target, len(data), data):
                self.report.unchanged += 1
                return
            data = (data,)
        if not self.staged:
            self.folder.mkdir(parents=True, exist_ok=True)
        # The run lock makes the folder ours: a counter names the file, no random names.
        counter = str(len(self.staged))
        tmp = self.folder / counter
        try:
            # Compared with the published file as the pieces come (no digest: each byte is
            # compared, and a file that is not there costs no reading at all).
            published = _open_published(target)
            try:
                same = published is not None
                with open(tmp, "wb") as handle:
                    for piece in _batched(data):
                        if same:
                            assert published is not None
                            same = published.read(len(piece)) == piece
                        handle.write(piece)
                if same:
                    assert published is not None
                    same = not published.read(1)  # and not longer
            finally:
                if published is not None:
                    published.close()
            if same:
                # Unchanged: the published file stays untouched (not even its mtime).
                tmp.unlink()
                self.report.unchanged += 1
                return
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.staged.append((counter, name))

    def commit(self, first: Iterable[str] = ()) -> None:
        """Rename every staged file into place, those under the folders ``first`` first."""
        leading = tuple(f"{folder.rstrip('/')}/" for folder in first)
        order = [s for s in self.staged if s[1].startswith(leading)]
        order += [s for s in self.staged if not s[1].startswith(leading)]
        whole = self._whole_folders()
        folder, out_dir = str(self.folder), str(self.out_dir)
        try:
            made: set[str] = set(whole)
            for _, name in order:
                parent = name.rpartition("/")[0]
                if parent and parent not in made:
                    (self.out_dir / parent).mkdir(parents=True, exist_ok=True)
                    made.add(parent)
            moved: set[str] = set()
            for tmp, name in order:
                parent = name.rpartition("/")[0]
                if parent in whole:
                    if parent not in moved:  # all its files at once, where the first was
                        os.rename(os.path.join(folder, parent), os.path.join(out_dir, parent))
                        moved.add(parent)
                else:
                    os.replace(os.path.join(folder, tmp), os.path.join(out_dir, name))
                self.report.written.append(name)
        finally:
            # A failed rename (disk full) leaves each file old or new, and no staging file.
            self.discard()

    def _whole_folders(self) -> set[str]:
        """Folders that are not published yet and whose files were all staged at their own
        path (``stage_file`` with ``tmp`` = the name; nothing else is staged there): the
        staged folder is renamed into place whole, one rename for a first publish's 20,000
        event files."""
        mirrored: dict[str, bool] = {}
        for tmp, name in self.staged:
            parent = name.rpartition("/")[0]
            if parent:
                mirrored[parent] = mirrored.get(parent, True) and tmp == name
        return {
            folder
            for folder, own in mirrored.items()
            if own and "/" not in folder and not os.path.lexists(self.out_dir / folder)
        }

    def prune(self, folders: Iterable[str], kept: Collection[str] = ()) -> list[str]:
        """Remove the files under ``folders`` that this run did not put (after ``commit``)."""
        removed = []
        kept = set(kept)  # a list would make this quadratic
        for folder in folders:
            for dirpath, _, names in os.walk(self.out_dir / folder):
                prefix = Path(dirpath).relative_to(self.out_dir).as_posix() + "/"
                for file_name in sorted(names):
                    name = prefix + file_name
                    if name not in self.seen and name not in kept:
                        os.unlink(os.path.join(dirpath, file_name))
                        removed.append(name)
        return sorted(removed)

    def discard(self) -> None:
        self.staged = []
        shutil.rmtree(self.folder, ignore_errors=True)


def _batched(pieces: Iterable[bytes], size: int = 1 << 20) -> Iterator[bytes]:
    """Small pieces joined to about ``size`` bytes: fewer writes and digest updates."""
    batch: list[bytes] = []
    held = 0
    for piece in pieces:
        batch.append(piece)
        held += len(piece)
        if held >= size:
            yield b"".join(batch)
            batch, held = [], 0
    if batch:
        yield b"".join(batch)


def _same_file(path: Path, size: int, data: bytes) -> bool:
    """Whether the file at ``path`` holds exactly ``data`` (no file: no)."""
    try:
        if path.stat().st_size != size:
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def _open_published(path: Path) -> BinaryIO | None:
    """The published file to compare with, if there is one."""
    try:
        return path.open("rb")
    except OSError:
        return None


def write_staged(
    out_dir: Path,
    files: Iterable[tuple[str, Content]],
    report: PublishReport,
    *,
    prune: Iterable[str] = (),
    kept: Collection[str] = (),
) -> None:
    """Stage each (path, content) as it comes, then rename them all; a failure while the
    files are produced or staged leaves every previously published file in place. Then
    remove the files under ``prune`` that this run did not produce nor name in ``kept``."""
    prune = tuple(prune)
    staging = Staging(out_dir, report)
    try:
        for name, data in files:
            staging.put(name, data)
    except BaseException:
        try:
            # A producer that is a generator first runs its cleanup (its workers stop), so
            # nothing is staged after the folder is gone.
            close = getattr(files, "close", None)
            if close is not None:
                close()
        finally:
            staging.discard()
        raise
    staging.commit(first=prune)
    report.removed.extend(staging.prune(prune, kept))
