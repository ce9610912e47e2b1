"""Safe rewriting of the files in a folder.

A file is streamed into a temporary file in the same folder, fsynced and
swapped in with os.replace, so a crash leaves it either untouched or fully
rewritten. One rewrite of a folder at a time holds an advisory lock
(fcntl.flock) on `.privacydesk.lock`; a writer that ignores the lock and
appends meanwhile is noticed (the file's size or time changed) and the file
is read again, so nothing it wrote is lost.
"""

from __future__ import annotations

import fcntl
import fnmatch
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from connectors.base import ConnectorError

LOCK_NAME = ".privacydesk.lock"

# A line's transform: its replacement (None drops it) and whether it concerned
# the subject.
Transform = Callable[[bytes], tuple[bytes | None, bool]]


def matching_files(folder: Path, pattern: str) -> Iterator[Path]:
    """The files of `folder` matching `pattern`, by name; hidden files never."""
    names = sorted(
        entry.name
        for entry in os.scandir(folder)
        if not entry.name.startswith(".")
        and fnmatch.fnmatchcase(entry.name, pattern)
        and entry.is_file(follow_symlinks=False)
    )
    for name in names:
        yield folder / name


@contextmanager
def folder_lock(folder: Path, *, timeout: float) -> Iterator[None]:
    """Hold the folder's lock; a retryable error if it stays taken."""
    with open(folder / LOCK_NAME, "ab") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() >= deadline:
                    raise ConnectorError(
                        f"folder {folder} is locked by another rewrite"
                    ) from exc
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def rewrite(path: Path, transform: Transform, *, attempts: int) -> tuple[int, int]:
    """Stream `path` through `transform` and swap the result in atomically.

    Returns (lines found, lines changed). A file no line of which changes is
    left alone: not even its modification time moves."""
    for _ in range(attempts):
        try:
            source = path.open("rb")
        except FileNotFoundError:
            return 0, 0  # removed since the listing
        with source:
            before = os.fstat(source.fileno())
            fd, temp_name = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
            )
            try:
                with os.fdopen(fd, "wb") as temp:
                    found = changed = 0
                    for raw in source:
                        new, concerned = transform(raw)
                        found += concerned
                        changed += new != raw
                        if new is not None:
                            temp.write(new)
                    if changed:
                        temp.flush()
                        os.fsync(temp.fileno())
                if not changed:
                    os.unlink(temp_name)
                    return found, 0
                _copy_owner_and_mode(before, temp_name)
                if _signature(os.stat(path)) != _signature(before):
                    os.unlink(temp_name)  # written meanwhile: read it again
                    continue
                os.replace(temp_name, path)
            except BaseException:
                with suppress(FileNotFoundError):
                    os.unlink(temp_name)
                raise
        _fsync_folder(path.parent)
        return found, changed
    raise ConnectorError(
        f"{path.name} kept changing while it was rewritten; try again later"
    )


def _signature(status: os.stat_result) -> tuple[int, int, int]:
    return status.st_ino, status.st_size, status.st_mtime_ns


def _copy_owner_and_mode(original: os.stat_result, temp_name: str) -> None:
    os.chmod(temp_name, stat.S_IMODE(original.st_mode))
    with suppress(PermissionError):  # only root may give a file away
        os.chown(temp_name, original.st_uid, original.st_gid)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
