"""Files of data derived from a schedule (search indexes, vectors), kept under ``var/`` by key.

A key names what the data was derived from (a source's SHA-256, a hash of the documents, the
version of the code that derives it), so a new revision or new code gets a new file and an old
file is never read for it. ``load_or_build`` reads the file when it is there and whole; otherwise
one process builds it while any other waits for that file, and writes it whole or not at all (a
temporary file renamed into place). A damaged file is rebuilt, never trusted; a file that cannot
be written leaves the caller with what it built.
"""

import fcntl
import logging
import os
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

log = logging.getLogger(__name__)
T = TypeVar("T")

# What reading a damaged or truncated .npz raises: a bad zip, a missing member, a bad header.
_DAMAGED = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile)

_locks: dict[str, threading.Lock] = {}
_locks_lock = threading.Lock()


def folder(name: str) -> Path:
    """Return ``var/<name>/``, created if absent."""
    from django.conf import settings

    path = Path(getattr(settings, "VAR_DIR", "var")) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_or_build(
    path: Path,
    build: Callable[[], dict[str, np.ndarray]],
    load: Callable[[dict[str, np.ndarray]], T],
) -> T:
    """Return ``load(arrays)`` of the arrays stored at ``path``, building and storing them first
    when the file is absent or damaged.

    One builder at a time per file: an advisory lock across processes, a lock within one. The
    others wait and then read its file instead of building their own.
    """
    found = _read(path, load)
    if found is not None:
        return found
    with _lock(path.name), open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = _read(path, load)  # another process may have written it meanwhile
        if found is not None:
            return found
        arrays = build()
        _write(path, arrays)
    return load(arrays)


def _read(path: Path, load: Callable[[dict[str, np.ndarray]], T]) -> T | None:
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return load({name: data[name] for name in data.files})
    except _DAMAGED as err:
        log.warning("derived data file %s is unreadable (%s); building it again", path, err)
        return None


def _write(path: Path, arrays: dict[str, np.ndarray]) -> None:
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_native_id()}.tmp.npz")
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)  # atomic: a reader sees the old file, none, or the whole new one
    except OSError as err:  # a full or read-only disk: the caller still has what it built
        log.warning("could not store %s (%s); using it from memory", path, err)
        tmp.unlink(missing_ok=True)


def _lock(name: str) -> threading.Lock:
    with _locks_lock:
        return _locks.setdefault(name, threading.Lock())
