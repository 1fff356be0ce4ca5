"""A DICOM peer that writes its PDUs by hand, so it can send what real SCUs refuse to: empty,
NUL-laden or over-long UIDs, C-STOREs without data sets, SOP classes that differ from the
context, truncated or lying PDUs, half PDUs. Used by the SCP fault tests and
bench/fault_suite.py. Every socket operation is bounded by `timeout`."""
from __future__ import annotations

import io
import socket
import struct
import warnings
from dataclasses import dataclass

import pydicom
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
VERIFICATION = "1.2.840.10008.1.1"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
APP_CONTEXT = "1.2.840.10008.3.1.1.1"


def _item(kind: int, data: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(data)) + data


def _pdu(kind: int, body: bytes) -> bytes:
    return struct.pack(">BBI", kind, 0, len(body)) + body


def associate_rq(called: str | bytes, calling: str | bytes, contexts, max_pdu: int = 16384) -> bytes:
    """An A-ASSOCIATE-RQ PDU; `contexts` is [(id, abstract syntax, [transfer syntaxes])]."""
    def title(value) -> bytes:
        raw = value.encode("ascii") if isinstance(value, str) else value
        return raw[:16].ljust(16, b" ")
    items = _item(0x10, APP_CONTEXT.encode())
    for cx_id, abstract, syntaxes in contexts:
        sub = _item(0x30, abstract.encode()) + b"".join(_item(0x40, ts.encode()) for ts in syntaxes)
        items += _item(0x20, bytes([cx_id, 0, 0, 0]) + sub)
    items += _item(0x50, _item(0x51, struct.pack(">I", max_pdu)) + _item(0x52, b"1.2.826.0.1.3680043.9.7777"))
    return _pdu(0x01, struct.pack(">HH", 1, 0) + title(called) + title(calling) + b"\0" * 32 + items)


def pdata(context_id: int, control: int, data: bytes) -> bytes:
    """A P-DATA-TF PDU with one PDV (control: 1/3 command, 0/2 data set; bit 2 = last)."""
    pdv = bytes([context_id, control]) + data
    return _pdu(0x04, struct.pack(">I", len(pdv)) + pdv)


RELEASE_RQ = _pdu(0x05, b"\0" * 4)


def encode(ds: Dataset, implicit: bool) -> bytes:
    buffer = DicomBytesIO()
    buffer.is_little_endian = True
    buffer.is_implicit_VR = implicit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_dataset(buffer, ds)
    return buffer.getvalue()


def command(fields: dict) -> bytes:
    """A command set (implicit VR little endian) with its group length; values as given."""
    ds = Dataset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for keyword, value in fields.items():
            if value is not None:
                setattr(ds, keyword, value)
    body = encode(ds, implicit=True)
    return struct.pack("<HHIL", 0x0000, 0x0000, 4, len(body)) + body


def c_store_rq(message_id, sop_class, sop_uid, has_dataset: bool = True, priority=0) -> bytes:
    return command({"AffectedSOPClassUID": sop_class, "CommandField": 0x0001,
                    "MessageID": message_id, "Priority": priority,
                    "CommandDataSetType": 0x0000 if has_dataset else 0x0101,
                    "AffectedSOPInstanceUID": sop_uid})


def c_echo_rq(message_id: int = 1) -> bytes:
    return command({"AffectedSOPClassUID": VERIFICATION, "CommandField": 0x0030,
                    "MessageID": message_id, "CommandDataSetType": 0x0101})


@dataclass
class Answer:
    status: int
    comment: str = ""


class Rejected(Exception):
    def __init__(self, result: int, source: int, reason: int):
        super().__init__(f"association rejected: result {result} source {source} reason {reason}")
        self.result, self.source, self.reason = result, source, reason


class Aborted(Exception):
    """The SCP sent an A-ABORT or closed the connection instead of answering."""


class RawPeer:
    def __init__(self, host: str, port: int, timeout: float = 30.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.accepted: dict[int, str] = {}
        self.max_pdu = 16384

    # -- bytes --------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _read(self, count: int) -> bytes:
        data = bytearray()
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise Aborted(f"connection closed after {len(data)} of {count} bytes")
            data.extend(chunk)
        return bytes(data)

    def read_pdu(self) -> tuple[int, bytes]:
        kind, _, length = struct.unpack(">BBI", self._read(6))
        return kind, self._read(length)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # -- association ----------------------------------------------------------------------
    def associate(self, called: str | bytes, calling: str | bytes = "FUZZER", contexts=None,
                  max_pdu: int = 16384) -> dict[int, str]:
        contexts = contexts or [(1, CT, [EXPLICIT_LE]), (3, MR, [EXPLICIT_LE]),
                                (5, VERIFICATION, [IMPLICIT_LE])]
        self.send(associate_rq(called, calling, contexts, max_pdu))
        kind, body = self.read_pdu()
        if kind == 0x03:
            raise Rejected(body[1], body[2], body[3])
        if kind != 0x02:
            raise Aborted(f"PDU type {kind:#x} instead of A-ASSOCIATE-AC")
        self.accepted = {}
        offset = 68
        while offset + 4 <= len(body):
            item_type, _, length = struct.unpack(">BBH", body[offset:offset + 4])
            value = body[offset + 4:offset + 4 + length]
            if item_type == 0x21 and value[2] == 0:
                ts_len = struct.unpack(">H", value[6:8])[0]
                self.accepted[value[0]] = value[8:8 + ts_len].decode().rstrip("\0")
            if item_type == 0x50:
                sub = value
                if len(sub) >= 8 and sub[0] == 0x51:
                    self.max_pdu = struct.unpack(">I", sub[4:8])[0] or self.max_pdu
            offset += 4 + length
        return self.accepted

    def release(self) -> None:
        try:
            self.send(RELEASE_RQ)
            self.read_pdu()
        except (OSError, Aborted):
            pass
        self.close()

    # -- messages -------------------------------------------------------------------------
    def send_message(self, context_id: int, cmd: bytes, data: bytes | None,
                     fragment: int = 16000) -> None:
        self.send(pdata(context_id, 0x03, cmd))
        if data is None:
            return
        if not data:
            self.send(pdata(context_id, 0x02, b""))
            return
        for start in range(0, len(data), fragment):
            last = start + fragment >= len(data)
            self.send(pdata(context_id, 0x02 if last else 0x00, data[start:start + fragment]))

    def read_answer(self) -> Answer:
        """The next response's Status and Error Comment; Aborted when there is none."""
        encoded = b""
        while True:
            kind, body = self.read_pdu()
            if kind == 0x07:
                raise Aborted("A-ABORT")
            if kind != 0x04:
                raise Aborted(f"PDU type {kind:#x} instead of P-DATA")
            offset = 0
            while offset < len(body):
                length = struct.unpack(">I", body[offset:offset + 4])[0]
                pdv = body[offset + 4:offset + 4 + length]
                offset += 4 + length
                if pdv[1] & 1:
                    encoded += pdv[2:]
                    if pdv[1] & 2:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            ds = pydicom.dcmread(io.BytesIO(encoded), force=True)
                        return Answer(int(ds.Status), str(ds.get("ErrorComment", "") or ""))

    def store(self, context_id: int, sop_class, sop_uid, data: bytes | None,
              message_id: int = 1, has_dataset: bool | None = None, fragment: int = 16000) -> Answer:
        has = data is not None if has_dataset is None else has_dataset
        self.send_message(context_id, c_store_rq(message_id, sop_class, sop_uid, has), data,
                          fragment)
        return self.read_answer()

    def echo(self, context_id: int = 5) -> Answer:
        self.send_message(context_id, c_echo_rq(), None)
        return self.read_answer()


def closed_by_peer(sock: socket.socket, wait: float = 0.2) -> bool:
    """Whether the other end has closed this connection (or aborted it: an A-ABORT PDU);
    False while it is still open and silent."""
    sock.settimeout(wait)
    try:
        data = sock.recv(4096)
    except socket.timeout:
        return False
    except OSError:
        return True
    return not data or data[:1] == b"\x07"


def dataset_bytes(ds: Dataset) -> bytes:
    """A dataset (without file meta) encoded explicit VR little endian, as sent on a context."""
    return encode(ds, implicit=False)
