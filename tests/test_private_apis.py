"""The private library internals the package relies on, each checked where it is used.

Python's ProcessPoolExecutor (workers._worker_processes) and pynetdicom 3.0's reader and
writer (scp/intake.py's four hooks) have no public way to do what we need. If one of these
tests fails, a library changed the internal named in its message: update the named place.
"""
from __future__ import annotations

import inspect
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from pydicom.pixels import get_decoder
from pydicom.uid import JPEGBaseline8Bit, RLELossless
from pynetdicom import dimse_messages, dul, transport

from scp_scanner.scp import intake
from scp_scanner.scp.contexts import decodable_transfer_syntaxes
from scp_scanner.workers import _worker_processes


def test_process_pool_keeps_its_processes_where_workers_reads_them() -> None:
    executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    try:
        pid = executor.submit(os.getpid).result(120)
        assert isinstance(getattr(executor, "_processes", None), dict), \
            "ProcessPoolExecutor._processes is gone or no longer a dict: update workers._worker_processes"
        processes = _worker_processes(executor)
        assert [p.pid for p in processes] == [pid], \
            "ProcessPoolExecutor._processes no longer maps to the worker Process objects: " \
            "update workers._worker_processes"
        assert processes[0].is_alive()
    finally:
        executor.shutdown(wait=True)
    assert _worker_processes(None) == []


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_pynetdicom_internals_that_intake_replaces_are_as_expected() -> None:
    decode_msg = intake._original_decode_msg
    assert _parameters(decode_msg) == ["self", "primitive", "assoc"], \
        "pynetdicom DIMSEMessage.decode_msg changed its parameters: update scp/intake.py hook 2"
    source = inspect.getsource(decode_msg)
    assert "NamedTemporaryFile(" in source, \
        "pynetdicom DIMSEMessage.decode_msg no longer creates its data-set file with " \
        "dimse_messages.NamedTemporaryFile: update scp/intake.py hook 1 (SpoolFile)"
    assert "write_file_meta_info(" in source, \
        "pynetdicom DIMSEMessage.decode_msg no longer calls dimse_messages.write_file_meta_info: " \
        "update scp/intake.py (_write_file_meta)"
    assert hasattr(dimse_messages, "NamedTemporaryFile"), \
        "pynetdicom.dimse_messages.NamedTemporaryFile is gone: update scp/intake.py hook 1"
    assert _parameters(intake._original_write_file_meta)[:2] == ["fp", "file_meta"], \
        "pynetdicom dimse_messages.write_file_meta_info changed: update scp/intake.py"
    assert _parameters(intake._original_decode_pdu) == ["self", "bytestream"], \
        "pynetdicom DULServiceProvider._decode_pdu changed: update scp/intake.py hook 4"
    assert "recv" in vars(transport.AssociationSocket), \
        "pynetdicom AssociationSocket.recv is gone: update scp/intake.py hook 3"
    assert hasattr(dul.DULServiceProvider, "_decode_pdu")


def test_decodable_syntaxes_come_from_pydicoms_public_decoders() -> None:
    syntaxes = decodable_transfer_syntaxes()
    assert RLELossless in syntaxes                    # pydicom's own decoder, always present
    assert (JPEGBaseline8Bit in syntaxes) == get_decoder(JPEGBaseline8Bit).is_available
    assert len(syntaxes) == len(set(syntaxes))
