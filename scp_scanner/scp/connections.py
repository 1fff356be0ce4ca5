"""Accepting connections so that slow or half-open peers cannot lock legitimate ones out.

pynetdicom's server hands each accepted socket to an association thread with no timeout
(accepted sockets do not inherit the listening socket's), counts a connection that has not
yet sent its A-ASSOCIATE-RQ as an association, and does the TLS handshake in the accepting
thread. So ten connections that never finish a PDU took every association slot for as long
as they stayed open, and one silent TLS client stopped all accepts. Here:

- every accepted socket gets `network.network_timeout` (reads are also bounded per PDU,
  intake.py), and the TLS handshake happens in the connection's own thread;
- a connection is *pending* until it has associated; pending connections are counted apart
  from associations (`network.max_pending_connections`, per address
  `network.max_pending_per_address`): at either cap the oldest pending connection (of that
  address) that has had 5 s to send its request is closed to make room, so a flood of idle
  connections cannot keep out a peer that sends its request at once while a burst of
  connections from one PACS is not cut (past 4x a cap new connections are closed at once);
  a pending connection is also closed when it has not associated within
  `network.acse_timeout`;
- `network.max_associations` counts established associations only (handlers.on_requested).
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass, field

from pynetdicom.transport import ThreadedAssociationServer

from . import intake

log = logging.getLogger("scp_scanner.scp.association")

WATCH_SECONDS = 1.0
GRACE_SECONDS = 5.0       # a pending connection younger than this is never closed for room
HARD_FACTOR = 4           # beyond this many times a cap, new connections are closed at once


@dataclass
class _Pending:
    sock: socket.socket
    address: str
    since: float = field(default_factory=time.monotonic)


class GuardedServer(ThreadedAssociationServer):
    """pynetdicom's threaded server with timeouts and a separate cap on pending connections."""

    # set by start_guarded() before serving
    network_timeout: float = 60.0
    acse_timeout: float = 30.0
    max_pending: int = 32
    max_pending_per_address: int = 8

    def _guard_init(self) -> None:
        self._pending: dict[int, _Pending] = {}
        self._pending_lock = threading.Lock()
        self._stop_watch = threading.Event()
        self._watch = threading.Thread(target=self._watch_loop, name="connection-watch",
                                       daemon=True)
        self._watch.start()

    # -- accepting -----------------------------------------------------------------------
    def get_request(self):
        client, address = self.socket.accept()
        client.settimeout(self.network_timeout)
        if self.ssl_context:
            # The handshake runs at the first read, in the connection's thread, bounded by
            # the socket timeout; in accept() it would stall every other peer.
            client = self.ssl_context.wrap_socket(client, server_side=True,
                                                  do_handshake_on_connect=False)
        self._admit(client, str(address[0]))
        return client, address

    def _admit(self, client: socket.socket, address: str) -> None:
        """Count a new connection as pending; at a cap, close the oldest pending one that has
        had GRACE_SECONDS to send its request (a sender does so at once; a burst of
        connections from one PACS is not cut). Past HARD_FACTOR x the cap the newcomer goes."""
        evicted: list[_Pending] = []
        now = time.monotonic()
        with self._pending_lock:
            for limit, pool in ((self.max_pending_per_address,
                                 [p for p in self._pending.values() if p.address == address]),
                                (self.max_pending, list(self._pending.values()))):
                if len(pool) < limit:
                    continue
                old = sorted((p for p in pool if now - p.since >= GRACE_SECONDS and p not in evicted),
                             key=lambda p: p.since)
                excess = len(pool) - limit + 1
                evicted.extend(old[:excess])
            for entry in evicted:
                self._pending.pop(id(entry.sock), None)
            same = sum(1 for p in self._pending.values() if p.address == address)
            refuse = (len(self._pending) >= HARD_FACTOR * self.max_pending
                      or same >= HARD_FACTOR * self.max_pending_per_address)
            if not refuse:
                self._pending[id(client)] = _Pending(client, address)
        for entry in evicted:
            log.warning("closed a connection from %s that had not associated after %.1f s "
                        "(too many pending connections)", entry.address, now - entry.since)
            _close(entry.sock)
        if refuse:
            log.warning("refused a connection from %s: too many pending connections", address)
            _close(client)

    def associated(self, sock) -> None:
        """The association of this socket was accepted or rejected: no longer pending."""
        with self._pending_lock:
            self._pending.pop(id(sock), None)

    def closed(self, sock) -> None:
        with self._pending_lock:
            self._pending.pop(id(sock), None)

    @property
    def pending_connections(self) -> int:
        with self._pending_lock:
            return len(self._pending)

    # -- watching ------------------------------------------------------------------------
    def _watch_loop(self) -> None:
        while not self._stop_watch.wait(WATCH_SECONDS):
            try:
                self._expire_pending()
                intake.discard_orphans()
            except Exception:            # the watcher must outlive any surprise
                log.exception("connection watcher error")

    def _expire_pending(self) -> None:
        horizon = time.monotonic() - self.acse_timeout
        with self._pending_lock:
            stale = [p for p in self._pending.values() if p.since < horizon]
            for entry in stale:
                self._pending.pop(id(entry.sock), None)
        for entry in stale:
            log.warning("closed a connection from %s: no association within %.0f s "
                        "(network.acse_timeout)", entry.address, self.acse_timeout)
            _close(entry.sock)

    def shutdown(self) -> None:
        self._stop_watch.set()
        super().shutdown()


def _close(sock: socket.socket) -> None:
    """Wake the connection's thread (its read returns) and let pynetdicom close it."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def start_guarded(ae, address: tuple[str, int], *, ssl_context, evt_handlers,
                  network_timeout: float, acse_timeout: float, max_pending: int,
                  max_pending_per_address: int) -> GuardedServer:
    """Like AE.start_server(block=False), with GuardedServer (pynetdicom's make_server)."""
    server = ae.make_server(address, ssl_context=ssl_context, evt_handlers=evt_handlers,
                            server_class=GuardedServer)
    server.network_timeout = network_timeout
    server.acse_timeout = acse_timeout
    server.max_pending = max_pending
    server.max_pending_per_address = max_pending_per_address
    server._guard_init()
    thread = threading.Thread(target=server.serve_forever, name="AcceptorServer", daemon=True)
    thread.start()
    ae._servers.append(server)
    return server
