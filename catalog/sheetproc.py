"""Parse worksheets in a child process with a memory limit, so that a crash stays there.

python-calamine is native code: a workbook that makes it allocate more than the machine has
aborts the whole process, and with it the web request of every other user or the background
worker. Here calamine runs in a small child (``sheetproc_child``, started per import in about
10 ms) whose address space is capped by ``resource.setrlimit(RLIMIT_AS)``; the parent sends it
workbook bytes and receives rows. A child that runs out of memory dies alone and the file is
refused with "needs more than N MB to read".

Rows come back pickled; they are unpickled with a loader that builds only plain values (text,
numbers, dates), never arbitrary objects.
"""

import contextlib
import io
import os
import pickle
import signal
import struct
import subprocess
import sys
from collections.abc import Iterator

from catalog import sheetproc_child as child

CHILD = os.path.abspath(child.__file__)
_ALLOWED = {("datetime", "datetime"), ("datetime", "date"), ("datetime", "time")}
_ALLOWED |= {("datetime", "timedelta")}


class SheetProcessError(Exception):
    """The child could not read the sheet; ``str(err)`` says why (for the damaged-file message)."""


class OutOfMemory(SheetProcessError):
    """The child needed more memory than its limit."""

    def __init__(self, limit_mb: int):
        super().__init__(f"needs more than {limit_mb} MB to read")
        self.limit_mb = limit_mb


class _Values(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a cell value")


def _site_dir() -> str:
    import python_calamine

    return os.path.dirname(os.path.dirname(os.path.abspath(python_calamine.__file__)))


class SheetProcess:
    """One child process that parses workbooks for one import, one request at a time.

    ``whole`` streams a sheet's rows from row 1; ``piece`` returns the rows of a small
    workbook. ``close`` (or leaving the ``with`` block) ends the child, whatever its state.
    """

    def __init__(self, limit_mb: int):
        self.limit_mb = limit_mb
        limit = limit_mb * 1024 * 1024 if limit_mb else 0
        self.proc = subprocess.Popen(  # noqa: S603 - our interpreter and script, no shell
            [sys.executable, "-I", "-S", CHILD, _site_dir(), str(limit)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            # One malloc arena: threads' arenas would reserve address space the limit counts.
            env={"MALLOC_ARENA_MAX": "1", "PATH": os.environ.get("PATH", "")},
        )

    def __enter__(self) -> "SheetProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _send(self, mode: int, sheet_name: str, data: bytes) -> None:
        name = sheet_name.encode()
        try:
            self.proc.stdin.write(struct.pack("!BIQ", mode, len(name), len(data)) + name)
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._died()

    def _receive(self):
        head = self.proc.stdout.read(8)
        if len(head) != 8:
            self._died()
        (size,) = struct.unpack("!Q", head)
        payload = self.proc.stdout.read(size)
        if len(payload) != size:
            self._died()
        message = _Values(io.BytesIO(payload)).load()
        if message[0] == "error":
            raise SheetProcessError(message[1])
        return message

    def _died(self):
        """The child ended mid-request: raise why."""
        status = self.proc.wait()
        if status in (child.OUT_OF_MEMORY, -signal.SIGABRT, -signal.SIGKILL, -signal.SIGSEGV):
            # Under RLIMIT_AS a failed allocation aborts calamine (or segfaults a library
            # that does not check); SIGKILL is the kernel's OOM killer.
            raise OutOfMemory(self.limit_mb)
        raise SheetProcessError(f"the reader stopped with status {status}")

    def whole(self, data: bytes, sheet_name: str) -> tuple[int, int, Iterator[list]]:
        """Parse the sheet ``sheet_name`` of workbook ``data``: ``(first column with cells,
        height, rows from row 1)``. Read the rows before the next request."""
        self._send(child.WHOLE, sheet_name, data)
        _, start_col, height = self._receive()

        def rows():
            while (message := self._receive())[0] == "rows":
                yield from message[1]

        return start_col, height, rows()

    def piece(self, workbook: bytes, sheet_name: str) -> tuple[int, int, list]:
        """Parse a small workbook: ``(first row, first column, rows)`` of its cells."""
        self._send(child.PIECE, sheet_name, workbook)
        _, start_row, start_col, rows = self._receive()
        return start_row, start_col, rows

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()
