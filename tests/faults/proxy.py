"""A TCP proxy the tests control, between the service and PostgreSQL: it passes bytes
through until told to cut a connection at a COMMIT, to stall, or to refuse."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from enum import Enum


class CommitFault(Enum):
    """Where a connection is cut when the client sends COMMIT."""

    before_server = "before"
    """The COMMIT never reaches the server: nothing is committed."""
    after_server = "after"
    """The server gets the COMMIT (and commits); its answer never reaches the client."""


COMMIT = b"COMMIT"


@dataclass
class FaultyProxy:
    """Listens on a free port of 127.0.0.1 and forwards to `target`."""

    target: tuple[str, int]
    cut_at_commit: CommitFault | None = None
    stalled: threading.Event = field(default_factory=threading.Event)
    refusing: bool = False
    cuts: int = 0
    _listener: socket.socket = field(init=False)
    _closed: threading.Event = field(default_factory=threading.Event)
    _sockets: list[socket.socket] = field(default_factory=list)
    _muted: set[socket.socket] = field(default_factory=set)
    """Servers whose answers are dropped: the client never hears that they committed."""

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True, name="proxy").start()

    @property
    def port(self) -> int:
        port: int = self._listener.getsockname()[1]
        return port

    def cut_commits_every(self, interval: float, stop: threading.Event) -> threading.Thread:
        """Arm a cut at the next COMMIT every `interval` seconds until `stop` is set,
        alternating before and after the server gets it (the benchmark's flaky network)."""

        def arm() -> None:
            faults = [CommitFault.before_server, CommitFault.after_server]
            while not stop.wait(interval):
                self.cut_at_commit = faults[self.cuts % 2]

        thread = threading.Thread(target=arm, daemon=True, name="proxy-cutter")
        thread.start()
        return thread

    def close(self) -> None:
        self._closed.set()
        self.stalled.clear()
        for sock in [self._listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            server = socket.create_connection(self.target)
            self._sockets += [client, server]
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, to_server: bool) -> None:
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                while self.stalled.is_set() and not self._closed.is_set():
                    time.sleep(0.05)
                fault = self.cut_at_commit
                if to_server and fault is not None and COMMIT in chunk:
                    self.cut_at_commit = None  # one cut per arming
                    self.cuts += 1
                    if fault is CommitFault.after_server:
                        self._muted.add(sink)  # the client hears nothing more from it
                        sink.sendall(chunk)
                        time.sleep(0.5)  # the server commits meanwhile
                    _close(source, sink)
                    return
                if source not in self._muted:
                    sink.sendall(chunk)
        except OSError:
            pass
        _close(source, sink)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()
