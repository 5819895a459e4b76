"""Forked worker processes that compute blocks of work and stream results back in order.

``ordered_map(work, blocks, jobs)`` forks ``jobs`` children; child ``w`` computes
blocks ``w, w + jobs, ...`` and writes each block's pickled result to its pipe.
The parent yields the results in block order. It reads a child's pipe only while
fewer than ``AHEAD`` of that child's blocks wait to be consumed, so a slow
consumer makes the children block on their pipes: memory stays bounded however
many blocks there are. Forking (not spawning) lets the children share everything
the parent has already read. An exception in a child is sent back and raised in
the parent at that block's turn; if the consumer stops early, the children are
terminated and reaped.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import selectors
import signal
import struct
import sys
import traceback
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import TypeVar

from git_sit.errors import SitError

T = TypeVar("T")
R = TypeVar("R")

AHEAD = 3
_HEADER = struct.Struct("<Q")


class WorkerFailed(Exception):
    """A worker process failed with an unexpected error (a bug); carries its traceback."""


def ordered_map(
    work: Callable[[T], R], blocks: Sequence[T], jobs: int,
    on_start: Callable[[], None] | None = None,
) -> Generator[R, None, None]:
    """``work(block)`` for every block, computed by ``jobs`` forked children, in order."""
    jobs = max(1, min(jobs, len(blocks)))
    for stream in (sys.stdout, sys.stderr):  # so that no child starts with a copy of what is buffered
        if stream is not None:
            stream.flush()
    children: list[tuple[int, int]] = []
    try:
        for index in range(jobs):
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child
                os.close(read_fd)
                for _, fd in children:
                    os.close(fd)
                _child(work, blocks[index::jobs], write_fd, on_start)
            os.close(write_fd)
            children.append((pid, read_fd))
        yield from _collect(children, len(blocks))
    finally:
        _stop(children)


def _child(work: Callable[[T], R], mine: Sequence[T], fd: int,
           on_start: Callable[[], None] | None) -> None:  # pragma: no cover - child only
    code = 0
    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # die at once; the parent reports it
        # else SIGINT stays ignored, as in the parent (a background job, nohup)
        if on_start is not None:
            on_start()
        for block in mine:
            try:
                message = pickle.dumps((True, work(block)), pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                message = _failure(exc)
                _send(fd, message)
                break
            _send(fd, message)
    except BrokenPipeError:
        code = 1  # the parent stopped reading
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _failure(exc: Exception) -> bytes:
    try:
        return pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
    except Exception:
        text = "".join(traceback.format_exception(exc))
        return pickle.dumps((False, WorkerFailed(text)), pickle.HIGHEST_PROTOCOL)


def _send(fd: int, message: bytes) -> None:
    data = memoryview(_HEADER.pack(len(message)) + message)
    while data:
        written = os.write(fd, data)
        data = data[written:]


class _Reader:
    """Frames arriving on one child's pipe."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.ready: deque[bytes] = deque()
        self.closed = False

    def feed(self) -> None:
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            self.closed = True
            return
        self.buffer += chunk
        while len(self.buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self.buffer)
            if len(self.buffer) < _HEADER.size + size:
                break
            self.ready.append(bytes(self.buffer[_HEADER.size:_HEADER.size + size]))
            del self.buffer[:_HEADER.size + size]


def _collect(children: list[tuple[int, int]], count: int) -> Iterator[R]:
    readers = [_Reader(fd) for _, fd in children]
    pids = {reader.fd: pid for reader, (pid, _) in zip(readers, children, strict=True)}
    with selectors.DefaultSelector() as selector:
        for reader in readers:
            selector.register(reader.fd, selectors.EVENT_READ, reader)
        for index in range(count):
            wanted = readers[index % len(readers)]
            while not wanted.ready:
                if wanted.closed:
                    raise _ended(pids[wanted.fd])
                _pump(selector, readers)
            ok, value = pickle.loads(wanted.ready.popleft())
            if not ok:
                raise value
            yield value


def _ended(pid: int) -> Exception:
    """Why a child closed its pipe before sending its results.

    Stopped by a signal (the user's kill, Ctrl-C while the parent ignores it, the
    kernel's out-of-memory killer) is a failure to report in one line; anything else
    is a bug.
    """
    with contextlib.suppress(ChildProcessError):
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            return SitError(f"a worker process was stopped by {signal.Signals(os.WTERMSIG(status)).name}.")
    return WorkerFailed("a worker process ended without sending its results.")


def _pump(selector: selectors.BaseSelector, readers: list[_Reader]) -> None:
    """Read from every child that has data and is not too far ahead."""
    for reader in readers:
        wanted = not reader.closed and len(reader.ready) < AHEAD
        registered = reader.fd in selector.get_map()
        if wanted and not registered:
            selector.register(reader.fd, selectors.EVENT_READ, reader)
        elif not wanted and registered:
            selector.unregister(reader.fd)
    for key, _ in selector.select():
        key.data.feed()


def _stop(children: list[tuple[int, int]]) -> None:
    for pid, fd in children:
        os.close(fd)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for pid, _ in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
