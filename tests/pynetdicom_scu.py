"""pynetdicom (3.0) as a *sending* peer from many threads of one process, without lost answers.

The race (pynetdicom's requestor, not the SCP): `Association.send_c_store` pauses the
association's own reactor thread before it sends, then waits for the response on
`dimse.msg_queue`:

    send thread:   _reactor_checkpoint.clear(); while not _is_paused: sleep; send; get_msg()
    reactor loop:  _is_paused = True; _reactor_checkpoint.wait(); _is_paused = False;
                   get_msg(block=False) -> _serve_request(msg)

When the reactor thread is switched out between `wait()` returning and `_is_paused = False`,
the send thread sees the stale `_is_paused = True`, sends, and the reactor, running on, takes
the C-STORE response off the queue itself; `_serve_request` logs "Received unexpected C-STORE
service message" and drops it. The sender waits `dimse_timeout` for nothing and aborts; the
SCP, which answered, waits for the next request until its network timeout. Many associations
in one process (GIL switches among tens of threads) make the window wide enough to hit; one
association per process (dcmtk storescu, PACS nodes) never does.

`install()` closes it in this process: a response the requestor's reactor takes while a send
is waiting (checkpoint cleared) goes back on the queue the send is reading. Anything else is
served as pynetdicom does. Idempotent.
"""
from __future__ import annotations

import json
import sys
import threading
import warnings

from pynetdicom.association import Association

_original_serve_request = Association._serve_request
handed_back: list[str] = []          # one entry per response the race would have dropped


def _serve_or_hand_back(self: Association, msg, context_id: int) -> None:
    waiting = not self._reactor_checkpoint.is_set()      # a send_*() is waiting for an answer
    if self.is_requestor and waiting and not msg.is_valid_request:
        self.dimse.msg_queue.put((context_id, msg))
        handed_back.append(msg.msg_type)
        return
    _original_serve_request(self, msg, context_id)


def install() -> None:
    Association._serve_request = _serve_or_hand_back


def installed() -> bool:
    return Association._serve_request is _serve_or_hand_back


def send_from_threads(host: str, port: int, called: str, associations: int, each: int,
                      dimse_timeout: float = 120.0) -> tuple[list[str], list[list[int]]]:
    """`associations` threads of this process, each one association storing `each` copies of
    pydicom's CT_small with fresh UIDs. Returns the UIDs and, per association, the status of
    each C-STORE (-1: no answer within `dimse_timeout`, or the association was gone)."""
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import generate_uid
    from pynetdicom import AE
    from pynetdicom.sop_class import CTImageStorage

    template = get_testdata_file("CT_small.dcm")
    batches: list[list[pydicom.Dataset]] = []
    uids: list[str] = []
    for _ in range(associations):
        batch = []
        for _ in range(each):
            ds = pydicom.dcmread(template)
            uid = generate_uid()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds.SOPInstanceUID = uid
                ds.file_meta.MediaStorageSOPInstanceUID = uid
            batch.append(ds)
            uids.append(uid)
        batches.append(batch)
    statuses: list[list[int]] = [[] for _ in range(associations)]

    def send(index: int) -> None:
        ae = AE(f"THREAD{index}")
        ae.add_requested_context(CTImageStorage)
        ae.dimse_timeout = dimse_timeout      # a slow fsync is not a missing answer
        assoc = ae.associate(host, port, ae_title=called)
        try:
            for ds in batches[index]:
                if not assoc.is_established:
                    statuses[index].append(-1)
                    continue
                status = assoc.send_c_store(ds)
                statuses[index].append(int(status.Status) if "Status" in status else -1)
        finally:
            if assoc.is_established:
                assoc.release()

    threads = [threading.Thread(target=send, args=(i,), name=f"sender{i}")
               for i in range(associations)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(dimse_timeout * (each + 2))
    return uids, statuses


if __name__ == "__main__":
    # python tests/pynetdicom_scu.py HOST PORT CALLED ASSOCIATIONS EACH [DIMSE_TIMEOUT]
    #   [--unpatched]   (without the fix: to see pynetdicom's race)
    args = [a for a in sys.argv[1:] if a != "--unpatched"]
    if "--unpatched" not in sys.argv:
        install()
    host, port, called, associations, each = args[:5]
    timeout = float(args[5]) if len(args) > 5 else 120.0
    uids, statuses = send_from_threads(host, int(port), called, int(associations), int(each),
                                       dimse_timeout=timeout)
    print(json.dumps({"uids": uids, "statuses": statuses, "handed_back": len(handed_back)}))
