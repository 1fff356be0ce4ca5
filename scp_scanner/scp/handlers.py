"""pynetdicom event handlers: association logging and access checks, C-ECHO, and C-STORE.

The C-STORE handler only ingests. pynetdicom has already streamed the dataset, with its file
meta, into a temp file in the spool's tmp/ (STORE_RECV_CHUNKED_DATASET); the handler checks
the UID, optionally parses the header, makes the file durable and renames it into incoming/,
then answers Success. No decoding, no re-encoding, no OCR: it runs in the association's thread
and anything CPU-heavy here would stall every association (GIL, docs/facts.md "Storage SCP").
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import UID
from pynetdicom import evt

from ..logs import printable
from . import intake
from .access import AddressPolicy
from .metrics import NO_METRICS, NullMetrics
from .spool import Spool, SpoolError, is_hostile_uid

log = logging.getLogger("scp_scanner.scp.received")
assoc_log = logging.getLogger("scp_scanner.scp.association")

SUCCESS = 0x0000
OUT_OF_RESOURCES = 0xA700          # the sender keeps the instance and retries
DATASET_MISMATCH = 0xA900          # dataset does not match the SOP class / command
CANNOT_UNDERSTAND = 0xC000
SOP_CLASS_NOT_SUPPORTED = 0x0122


def _peer(event) -> str:
    requestor = event.assoc.requestor
    return f"AE '{printable(requestor.ae_title)}' at {requestor.address}:{requestor.port}"


def failure(status: int, reason: str) -> Dataset:
    """A C-STORE failure status with an Error Comment naming the reason (LO: 64 chars)."""
    answer = Dataset()
    answer.Status = status
    answer.ErrorComment = reason.encode("ascii", "replace").decode("ascii")[:64]
    return answer


class Gate:
    """Counts C-STOREs in progress so a shutdown can wait for them, and refuses new ones
    once closing (answering 'out of resources': the sender keeps them for later)."""

    def __init__(self) -> None:
        self._busy = 0
        self._closing = False
        self._cond = threading.Condition()

    def enter(self) -> bool:
        with self._cond:
            if self._closing:
                return False
            self._busy += 1
            return True

    def leave(self) -> None:
        with self._cond:
            self._busy -= 1
            self._cond.notify_all()

    def close_and_wait(self, timeout: float) -> bool:
        with self._cond:
            self._closing = True
            return self._cond.wait_for(lambda: self._busy == 0, timeout)


class Handlers:
    def __init__(self, spool: Spool, on_stored: Callable[[Path], None],
                 addresses: AddressPolicy = AddressPolicy(), verify_dataset: bool = True,
                 metrics: NullMetrics = NO_METRICS, max_associations: int = 0):
        self.spool = spool
        self.metrics = metrics
        self.on_stored = on_stored
        self.addresses = addresses
        self.verify_dataset = verify_dataset
        self.max_associations = max_associations     # established ones; 0 = no limit here
        self.gate = Gate()
        self.stored = 0
        self._slots = threading.Lock()

    def bindings(self) -> list[tuple]:
        return [
            (evt.EVT_REQUESTED, self.on_requested),
            (evt.EVT_ACCEPTED, self.on_accepted),
            (evt.EVT_REJECTED, self.on_rejected),
            (evt.EVT_CONN_CLOSE, self.on_closed),
            (evt.EVT_C_ECHO, self.on_echo),
            (evt.EVT_C_STORE, self.on_store),
        ]

    # -- associations --------------------------------------------------------------------
    def _reject(self, event, result: int, source: int, reason: int, why: str) -> None:
        calling = event.assoc.requestor.primitive.calling_ae_title
        assoc_log.warning("association from AE '%s' at %s rejected: %s", printable(calling),
                          event.assoc.requestor.address, why)
        self.metrics.association_rejected(why.split(" (")[0])
        _server_event(event, "associated")
        event.assoc.acse.send_reject(result, source, reason)
        event.assoc.kill()

    def on_requested(self, event) -> None:
        primitive = event.assoc.requestor.primitive
        if not self.addresses.allows(event.assoc.requestor.address):
            # rejected-permanent, service-user, no reason given
            self._reject(event, 0x01, 0x01, 0x01, "address not allowed")
        elif primitive.called_ae_title == intake.INVALID_AE_TITLE:
            self._reject(event, 0x01, 0x01, 0x07, "called AE title blank or invalid")
        elif primitive.calling_ae_title == intake.INVALID_AE_TITLE:
            self._reject(event, 0x01, 0x01, 0x03, "calling AE title blank or invalid")
        elif not self._take_slot(event.assoc):
            # rejected-transient, service-provider (presentation), local limit exceeded
            self._reject(event, 0x02, 0x03, 0x02,
                         f"too many associations ({self.max_associations} established)")

    def _take_slot(self, assoc) -> bool:
        """Count established (or being negotiated) associations only: connections that
        have not sent their request yet are limited apart (connections.py)."""
        if not self.max_associations:
            return True
        with self._slots:
            holders = [a for a in assoc.ae.active_associations
                       if getattr(a, "_scp_slot", False) and a is not assoc]
            if len(holders) >= self.max_associations:
                return False
            assoc._scp_slot = True
            return True

    def on_accepted(self, event) -> None:
        self.metrics.association_accepted()
        _server_event(event, "associated")
        assoc_log.info("association from %s accepted (called AE '%s')", _peer(event),
                       printable(event.assoc.acceptor.ae_title))

    def on_closed(self, event) -> None:
        _server_event(event, "closed")
        message = getattr(event.assoc.dimse, "message", None)
        spool_file = getattr(message, "_data_set_file", None)
        if isinstance(spool_file, intake.SpoolFile):     # peer gone in the middle of a data set
            spool_file.discard()

    def on_rejected(self, event) -> None:
        _server_event(event, "associated")
        primitive = event.assoc.acceptor.primitive
        reasons = {(0x01, 0x03): "calling AE title not allowed",
                   (0x01, 0x07): "called AE title not recognised",
                   (0x03, 0x02): "too many associations"}
        key = (getattr(primitive, "result_source", None), getattr(primitive, "diagnostic", None))
        reason = reasons.get(key, f"source {key[0]} reason {key[1]}")
        self.metrics.association_rejected(reason)
        assoc_log.warning("association from %s rejected: %s", _peer(event), reason)

    # -- services ------------------------------------------------------------------------
    def on_echo(self, event) -> int:
        return SUCCESS

    def on_store(self, event):
        """Store one instance durably, or answer a failure. Never Success without the file."""
        started = time.perf_counter()
        request = event.request
        uid = str(request.AffectedSOPInstanceUID or "")
        sop_class = str(request.AffectedSOPClassUID or "")
        if not self.gate.enter():
            log.warning("refused %s: shutting down", printable(uid))
            return failure(OUT_OF_RESOURCES, "shutting down; send again later")
        try:
            status = self._store(event, uid, sop_class)
            if status == SUCCESS:
                self.metrics.instance_received(time.perf_counter() - started)
            return status
        except Exception as exc:  # never let a surprise turn into Success or kill the thread
            log.error("refused %s from %s: unexpected error %s: %s", printable(uid), _peer(event),
                      type(exc).__name__, printable(exc))
            return failure(OUT_OF_RESOURCES, f"unexpected error {type(exc).__name__}")
        finally:
            self.gate.leave()

    def _refuse(self, event, uid: str, status: int, reason: str):
        log.error("refused %s from %s: %s", printable(uid), _peer(event), printable(reason))
        return failure(status, reason)

    def _store(self, event, uid: str, sop_class: str):
        request = event.request
        spool_file = getattr(request, "_dataset_file", None)
        if isinstance(spool_file, intake.SpoolFile) and spool_file.refusal:
            return self._refuse(event, uid, spool_file.status, spool_file.refusal)
        if getattr(request, "_dataset_path", None) is None:
            return self._refuse(event, uid, CANNOT_UNDERSTAND, "C-STORE request without a data set")
        if is_hostile_uid(uid):
            return self._refuse(event, uid, CANNOT_UNDERSTAND,
                                f"unusable SOP Instance UID '{printable(uid)}'")
        context_class = str(event.context.abstract_syntax or "")
        if sop_class != context_class:
            return self._refuse(event, uid, SOP_CLASS_NOT_SUPPORTED,
                                "SOP class differs from the presentation context's")
        received = Path(event.dataset_path)
        size = received.stat().st_size
        if self.verify_dataset:
            problem = _header_problem(received, uid, sop_class)
            if problem:
                return self._refuse(event, uid, DATASET_MISMATCH, problem)
        try:
            self.spool.check_space()
            stored = self.spool.accept(received, uid)
        except SpoolError as exc:
            return self._refuse(event, uid, OUT_OF_RESOURCES, str(exc))
        self.stored += 1
        log.info("received %s %s (%d bytes, %s) from %s", printable(sop_class), printable(uid),
                 size, UID(sop_class).name or "unknown SOP class", _peer(event))
        self.on_stored(stored)
        return SUCCESS


def _server_event(event, name: str) -> None:
    """Tell the GuardedServer that this connection associated or closed."""
    server = getattr(event.assoc, "_server", None)
    method = getattr(server, name, None)
    sock = getattr(getattr(event.assoc.dul, "socket", None), "socket", None)
    if method is not None and sock is not None:
        method(sock)


def _header_problem(path: Path, uid: str, sop_class: str) -> str:
    """Why the received dataset's header is unusable, or '' when it is fine.

    Parses only up to the pixel data; values are not decoded further.
    """
    try:
        ds = dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID", "SOPInstanceUID"])
        dataset_uid = str(ds.get("SOPInstanceUID", "") or "")
        dataset_class = str(ds.get("SOPClassUID", "") or "")
    except Exception as exc:      # hostile bytes can raise almost anything from the parser
        return f"unreadable dataset ({type(exc).__name__}: {printable(exc, 120)})"
    if not dataset_uid:
        return "dataset has no SOP Instance UID"
    if dataset_uid != uid:
        return f"dataset SOP Instance UID {printable(dataset_uid)} differs from the request's"
    if dataset_class and sop_class and dataset_class != sop_class:
        return f"dataset SOP Class UID {printable(dataset_class)} differs from the request's"
    return ""


__all__ = ["CANNOT_UNDERSTAND", "DATASET_MISMATCH", "Gate", "Handlers", "OUT_OF_RESOURCES",
           "SOP_CLASS_NOT_SUPPORTED", "SUCCESS", "failure"]
