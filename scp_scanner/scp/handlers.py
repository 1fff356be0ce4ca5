"""pynetdicom event handlers: association logging and access checks, C-ECHO, and C-STORE.

The C-STORE handler only ingests. pynetdicom has already streamed the dataset, with its file
meta, into a temp file in the spool's tmp/ (STORE_RECV_CHUNKED_DATASET); the handler checks
the UID, optionally parses the header, makes the file durable and renames it into incoming/,
then answers Success. No decoding, no re-encoding, no OCR: it runs in the association's thread
and anything CPU-heavy here would stall every association (GIL, FACTS "Storage SCP").
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pydicom import dcmread
from pydicom.uid import UID
from pynetdicom import evt

from .access import AddressPolicy
from .metrics import NO_METRICS, NullMetrics
from .spool import Spool, SpoolError, is_hostile_uid

log = logging.getLogger("scp_scanner.scp.received")
assoc_log = logging.getLogger("scp_scanner.scp.association")

SUCCESS = 0x0000
OUT_OF_RESOURCES = 0xA700          # the sender keeps the instance and retries
DATASET_MISMATCH = 0xA900          # dataset does not match the SOP class / command
CANNOT_UNDERSTAND = 0xC000


def _peer(event) -> str:
    requestor = event.assoc.requestor
    return f"AE {requestor.ae_title!r} at {requestor.address}:{requestor.port}"


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
                 metrics: NullMetrics = NO_METRICS):
        self.spool = spool
        self.metrics = metrics
        self.on_stored = on_stored
        self.addresses = addresses
        self.verify_dataset = verify_dataset
        self.gate = Gate()
        self.stored = 0

    def bindings(self) -> list[tuple]:
        return [
            (evt.EVT_REQUESTED, self.on_requested),
            (evt.EVT_ACCEPTED, self.on_accepted),
            (evt.EVT_REJECTED, self.on_rejected),
            (evt.EVT_C_ECHO, self.on_echo),
            (evt.EVT_C_STORE, self.on_store),
        ]

    # -- associations --------------------------------------------------------------------
    def on_requested(self, event) -> None:
        address = event.assoc.requestor.address
        if not self.addresses.allows(address):
            calling = event.assoc.requestor.primitive.calling_ae_title
            assoc_log.warning("association from AE %r at %s rejected: address not allowed",
                              calling, address)
            # rejected-permanent, service-user, no reason given
            self.metrics.association_rejected("address not allowed")
            event.assoc.acse.send_reject(0x01, 0x01, 0x01)
            event.assoc.kill()

    def on_accepted(self, event) -> None:
        self.metrics.association_accepted()
        assoc_log.info("association from %s accepted (called AE %r)", _peer(event),
                       event.assoc.acceptor.ae_title)

    def on_rejected(self, event) -> None:
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

    def on_store(self, event) -> int:
        """Store one instance durably, or answer a failure. Never Success without the file."""
        started = time.perf_counter()
        request = event.request
        uid = str(request.AffectedSOPInstanceUID or "")
        sop_class = str(request.AffectedSOPClassUID or "")
        if not self.gate.enter():
            log.warning("refused %s: shutting down", uid)
            return OUT_OF_RESOURCES
        try:
            status = self._store(event, uid, sop_class)
            if status == SUCCESS:
                self.metrics.instance_received(time.perf_counter() - started)
            return status
        except Exception as exc:  # never let a surprise turn into Success or kill the thread
            log.exception("refused %s from %s: unexpected error %s", uid, _peer(event), exc)
            return OUT_OF_RESOURCES
        finally:
            self.gate.leave()

    def _store(self, event, uid: str, sop_class: str) -> int:
        if is_hostile_uid(uid):
            log.error("refused instance from %s: unusable SOP Instance UID %r", _peer(event), uid)
            return CANNOT_UNDERSTAND
        received = Path(event.dataset_path)
        size = received.stat().st_size
        if self.verify_dataset:
            problem = _header_problem(received, uid, sop_class)
            if problem:
                log.error("refused %s from %s: %s", uid, _peer(event), problem)
                return DATASET_MISMATCH
        try:
            self.spool.check_space()
            stored = self.spool.accept(received, uid)
        except SpoolError as exc:
            log.error("refused %s from %s: %s", uid, _peer(event), exc)
            return OUT_OF_RESOURCES
        self.stored += 1
        log.info("received %s %s (%d bytes, %s) from %s", sop_class, uid, size,
                 UID(sop_class).name or "unknown SOP class", _peer(event))
        self.on_stored(stored)
        return SUCCESS


def _header_problem(path: Path, uid: str, sop_class: str) -> str:
    """Why the received dataset's header is unusable, or '' when it is fine.

    Parses only up to the pixel data; values are not decoded further.
    """
    try:
        ds = dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID", "SOPInstanceUID"])
        dataset_uid = str(ds.get("SOPInstanceUID", "") or "")
        dataset_class = str(ds.get("SOPClassUID", "") or "")
    except Exception as exc:      # hostile bytes can raise almost anything from the parser
        return f"unreadable dataset ({type(exc).__name__}: {exc})"
    if not dataset_uid:
        return "dataset has no SOP Instance UID"
    if dataset_uid != uid:
        return f"dataset SOP Instance UID {dataset_uid!r} differs from the request's"
    if dataset_class and sop_class and dataset_class != sop_class:
        return f"dataset SOP Class UID {dataset_class!r} differs from the request's {sop_class!r}"
    return ""


__all__ = ["CANNOT_UNDERSTAND", "DATASET_MISMATCH", "Gate", "Handlers", "OUT_OF_RESOURCES",
           "SUCCESS"]
