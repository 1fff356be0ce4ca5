"""Where pynetdicom reads from the network and writes C-STORE data sets to disk: the hooks that
make every request end with an answer and leave nothing behind.

pynetdicom (3.0) has no option for any of these, so four small, process-wide hooks are
installed once by `install()` (tests/test_scp_faults.py checks they are in place;
tests/test_private_apis.py fails, naming the hook, when pynetdicom changes what they replace):

1. The temp file of a C-STORE's data set (STORE_RECV_CHUNKED_DATASET): pynetdicom creates it
   with `dimse_messages.NamedTemporaryFile`; that name is replaced by `SpoolFile`, which writes
   into the spool's tmp/ folder and checks free space *before* it takes anything: below
   `storage.min_free_mb` at the start of a transfer, or when the next fragment would not
   fit, or when a write fails (ENOSPC), it deletes what it wrote, discards the rest of the
   data set, and the handler answers 0xA700 with the reason. pynetdicom used to raise ENOSPC
   in its reader thread and drop the connection with no status.
2. `DIMSEMessage.decode_msg`: a C-STORE request whose command set pynetdicom would drop or
   abort on (an empty, blank, NUL-carrying or over-long Affected SOP Instance UID or SOP
   Class UID, a missing Message ID or Priority) is answered here with a failure status and an
   Error Comment naming the reason; its data set is never written.
3. `AssociationSocket.recv`: pynetdicom reads the rest of a PDU with blocking reads on a socket
   without timeout, so a peer that sends half a PDU held its thread for ever. Every read of
   one PDU (header, then body) now has `network.network_timeout` in all, and a PDU longer than
   this SCP can ever accept (its maximum PDU size; 1 MiB for association PDUs) is refused
   before it is read into memory.
4. `DULServiceProvider._decode_pdu`: an A-ASSOCIATE-RQ whose called or calling AE title is
   blank or carries control characters made pynetdicom abort with a traceback; such a title is
   replaced by INVALID_AE_TITLE so that the association is *rejected* (handlers.on_requested).
"""
from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from pathlib import Path

from pynetdicom import dimse_messages, dul, transport
from pynetdicom.dimse_messages import C_STORE_RQ, DIMSEMessage
from pynetdicom.dimse_primitives import C_STORE

from ..logs import printable
from ..private_files import private_fd

log = logging.getLogger("scp_scanner.scp.received")

OUT_OF_RESOURCES = 0xA700
CANNOT_UNDERSTAND = 0xC000
MAX_UID_LENGTH = 64
# Stands in for a blank or unusable AE title in an association request; never a real title
# (handlers.on_requested rejects it).
INVALID_AE_TITLE = "-INVALID-AE-"
ASSOCIATION_PDU_LIMIT = 1 << 20        # A-ASSOCIATE-RQ etc.: a few KiB in practice


class _Settings:
    """Process-wide values the hooks read (pynetdicom's own settings are module globals too)."""

    folder: Path | None = None
    min_free_bytes: int = 0
    max_pdu: int = 0


settings = _Settings()
_live: dict[str, "SpoolFile"] = {}       # temp files being written, by name
_live_lock = threading.Lock()


def free_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


class SpoolFile:
    """A C-STORE data set being received into spool/tmp, refusing what cannot be stored.

    Offers what pynetdicom uses of a NamedTemporaryFile: `name`, `write`, `file.flush`,
    `close`. Once `refusal` is set the file is gone and further data is discarded.
    """

    def __init__(self, *_args, **_kwargs) -> None:
        folder = settings.folder
        if folder is None:
            raise RuntimeError("scp_scanner.scp.intake.install() was not called")
        self.name = str(folder / f"rx-{uuid.uuid4().hex}.dcm")
        self.file = self
        self.refusal = ""
        self.status = 0
        self.owner = None                # the Association, set when its decode_msg sees us
        self.written = 0
        self._fd: int | None = None
        with _live_lock:
            _live[self.name] = self
        floor = settings.min_free_bytes
        try:
            free = free_bytes(folder)
        except OSError as exc:
            self.refuse(OUT_OF_RESOURCES, f"spool unusable: {exc.strerror or exc}")
            return
        if floor and free < floor:
            self.refuse(OUT_OF_RESOURCES, f"spool full: {free >> 20} MiB free, below the "
                                          f"{floor >> 20} MiB floor")
            return
        try:
            self._fd = private_fd(self.name, "x")
        except OSError as exc:
            self.refuse(OUT_OF_RESOURCES, f"cannot create a spool file: {exc.strerror or exc}")

    # -- what pynetdicom calls -----------------------------------------------------------
    def write(self, data) -> int:
        if self.refusal or self._fd is None:
            return len(data)
        floor = settings.min_free_bytes
        if floor:
            try:
                free = free_bytes(Path(self.name).parent)
            except OSError:
                free = 0
            if free - len(data) < floor:
                self.refuse(OUT_OF_RESOURCES,
                            f"spool full: data set does not fit in {free >> 20} MiB free")
                return len(data)
        view = memoryview(data)
        try:
            while view:
                done = os.write(self._fd, view)
                view = view[done:]
                self.written += done
        except OSError as exc:
            self.refuse(OUT_OF_RESOURCES, f"spool full: writing failed ({exc.strerror or exc})")
        return len(data)

    def flush(self) -> None:
        """Writes go straight to the file descriptor; durability is the handler's fsync."""

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
        with _live_lock:
            _live.pop(self.name, None)

    # -- ours ----------------------------------------------------------------------------
    def refuse(self, status: int, reason: str) -> None:
        """Stop storing: delete what was written, remember the answer for the handler."""
        if not self.refusal:
            self.refusal, self.status = reason, status
        self.discard()

    def discard(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
        try:
            os.unlink(self.name)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("cannot delete temp file %s: %s", self.name, exc)
        with _live_lock:
            _live.pop(self.name, None)


def discard_orphans() -> int:
    """Delete temp files whose association has ended (peer gone mid-data-set)."""
    with _live_lock:
        files = list(_live.values())
    removed = 0
    for spool_file in files:
        owner = spool_file.owner
        if owner is not None and not owner.is_alive():
            spool_file.discard()
            removed += 1
    return removed


def discard_all() -> None:
    """On shutdown, after every association has ended: nothing stays in tmp/."""
    with _live_lock:
        files = list(_live.values())
    for spool_file in files:
        spool_file.discard()


# -- request screening ---------------------------------------------------------------------
def _uid_problem(value, name: str) -> str:
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return f"{name} holds more than one value"
    text = "" if value is None else str(value)
    if not text.strip(" \x00"):
        return f"{name} is empty"
    if any(ord(c) < 32 or ord(c) > 126 for c in text.rstrip(" \x00")) or "\\" in text:
        return f"{name} holds control or non-ASCII characters"
    if len(text) > MAX_UID_LENGTH:
        return f"{name} is longer than {MAX_UID_LENGTH} characters"
    return ""


def request_problem(message: DIMSEMessage) -> str:
    """Why pynetdicom could not turn this C-STORE request into a primitive, or ''."""
    cs = message.command_set
    for keyword in ("MessageID", "Priority"):
        if cs.get(keyword) is None:
            return f"no {keyword}"
    return (_uid_problem(cs.get("AffectedSOPInstanceUID"), "AffectedSOPInstanceUID")
            or _uid_problem(cs.get("AffectedSOPClassUID"), "AffectedSOPClassUID"))


def _answer(assoc, message: DIMSEMessage, status: int, comment: str) -> None:
    cs = message.command_set
    rsp = C_STORE()
    message_id = cs.get("MessageID")
    rsp.MessageIDBeingRespondedTo = message_id if isinstance(message_id, int) else 0
    if not _uid_problem(cs.get("AffectedSOPClassUID"), ""):
        rsp.AffectedSOPClassUID = cs.AffectedSOPClassUID
    rsp.Status = status
    rsp.ErrorComment = comment[:64]
    assoc.dimse.send_msg(rsp, message.context_id)


def _reset(message: DIMSEMessage) -> None:
    """Make the message object ready for the next message (what pynetdicom does after one)."""
    from io import BytesIO

    from pydicom.dataset import Dataset

    message.__class__ = DIMSEMessage
    message.encoded_command_set = BytesIO()
    message.data_set = BytesIO()
    message.command_set = Dataset()
    message.context_id = None
    message._data_set_file = None
    message._data_set_path = None
    message.__dict__.pop("_scp_screened", None)


_original_decode_msg = DIMSEMessage.decode_msg


_original_write_file_meta = dimse_messages.write_file_meta_info


def _write_file_meta(fp, file_meta, *args, **kwargs) -> None:
    """pynetdicom writes the file meta as soon as the command set is complete; with an empty
    UID pydicom raises there, in pynetdicom's reader thread. Refuse instead (answered once
    the data set has arrived)."""
    try:
        _original_write_file_meta(fp, file_meta, *args, **kwargs)
    except Exception as exc:  # pydicom raises anything on a bad command set
        if not isinstance(fp, SpoolFile):
            raise
        fp.refuse(CANNOT_UNDERSTAND, f"unusable command set: {printable(exc, 60)}")


def _screened_decode_msg(self: DIMSEMessage, primitive, assoc=None) -> bool:
    try:
        complete = _original_decode_msg(self, primitive, assoc)
    except Exception as exc:  # hostile command sets raise anything from pynetdicom's decoder
        # An unreadable command set (garbled encoding, unknown command): nothing can be
        # answered without a message ID. Abort the association, as pynetdicom does for an
        # invalid message (an exception here would kill its reader thread and wedge it).
        spool_file = getattr(self, "_data_set_file", None)
        if isinstance(spool_file, SpoolFile):
            spool_file.discard()
        _reset(self)
        if assoc is None:
            raise
        log.error("aborting the association with AE '%s' at %s: unreadable DIMSE message (%s: %s)",
                  printable(assoc.requestor.ae_title), assoc.requestor.address,
                  type(exc).__name__, printable(exc, 120))
        assoc.dul.event_queue.put("Evt19")
        return False
    if not isinstance(self, C_STORE_RQ) or assoc is None:
        return complete
    spool_file = self._data_set_file
    screened = getattr(self, "_scp_screened", None)
    if screened is None:           # first call with a complete command set
        screened = request_problem(self)
        self._scp_screened = screened
        if isinstance(spool_file, SpoolFile):
            spool_file.owner = assoc
            if screened:
                spool_file.refuse(CANNOT_UNDERSTAND, screened)
    if not complete or not screened:
        return complete
    uid = self.command_set.get("AffectedSOPInstanceUID")
    log.error("refused instance '%s' from AE '%s' at %s: %s", printable(uid),
              printable(assoc.requestor.ae_title), assoc.requestor.address, screened)
    try:
        _answer(assoc, self, CANNOT_UNDERSTAND, screened)
    finally:
        if isinstance(spool_file, SpoolFile):
            spool_file.discard()
        _reset(self)
    return False                     # swallowed: pynetdicom waits for the next message


# -- reads ---------------------------------------------------------------------------------
def _pdu_limit() -> int:
    if settings.max_pdu:
        return max(settings.max_pdu + 1024, ASSOCIATION_PDU_LIMIT)
    return 1 << 32


def _bounded_recv(self: transport.AssociationSocket, nr_bytes: int) -> bytearray:
    """Read `nr_bytes` within the association's network timeout in all (pynetdicom: none)."""
    sock = self.socket
    if nr_bytes > _pdu_limit():
        raise OSError(f"peer announced a {nr_bytes}-byte PDU, more than this SCP accepts")
    timeout = self.assoc.network_timeout
    deadline = time.monotonic() + timeout if timeout else None
    data = bytearray()
    try:
        while len(data) < nr_bytes:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"peer sent {len(data)} of {nr_bytes} bytes in "
                                       f"{timeout:.0f} s (network.network_timeout)")
                sock.settimeout(remaining)
            chunk = sock.recv(min(65536, nr_bytes - len(data)))
            if not chunk:
                break
            data.extend(chunk)
    finally:
        if deadline is not None:
            sock.settimeout(timeout)     # sends stay bounded by the same timeout
    return data


# -- association requests ------------------------------------------------------------------
def _usable_ae(raw: bytes) -> bool:
    text = raw.strip(b" \x00")
    return bool(text) and all(32 <= b < 127 and b != 0x5C for b in text)


_original_decode_pdu = dul.DULServiceProvider._decode_pdu


def _decode_pdu_with_checked_titles(self, bytestream: bytearray):
    if len(bytestream) >= 42 and bytestream[0] == 0x01:
        marker = INVALID_AE_TITLE.encode("ascii").ljust(16)
        for start in (10, 26):                        # called, then calling AE title
            if not _usable_ae(bytes(bytestream[start:start + 16])):
                bytestream[start:start + 16] = marker
    return _original_decode_pdu(self, bytestream)


def install(folder: Path, min_free_bytes: int, max_pdu: int) -> None:
    """Install the hooks (idempotent) and point them at this spool."""
    settings.folder = Path(folder)
    settings.min_free_bytes = max(0, int(min_free_bytes))
    settings.max_pdu = max(0, int(max_pdu))
    dimse_messages.NamedTemporaryFile = SpoolFile
    dimse_messages.write_file_meta_info = _write_file_meta
    DIMSEMessage.decode_msg = _screened_decode_msg
    transport.AssociationSocket.recv = _bounded_recv
    dul.DULServiceProvider._decode_pdu = _decode_pdu_with_checked_titles


def installed() -> bool:
    return (dimse_messages.NamedTemporaryFile is SpoolFile
            and dimse_messages.write_file_meta_info is _write_file_meta
            and DIMSEMessage.decode_msg is _screened_decode_msg
            and transport.AssociationSocket.recv is _bounded_recv
            and dul.DULServiceProvider._decode_pdu is _decode_pdu_with_checked_titles)
