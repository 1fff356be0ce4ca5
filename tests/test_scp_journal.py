"""The processor's state machine, tested directly (milliseconds): the scheduler (in flight,
suspects, isolating an instance that crashes a worker) and the journal around rows (begin,
commit, undo). tests/test_scp_recovery.py and test_scp_faults.py keep the end-to-end kill -9
runs."""
from __future__ import annotations

import errno
from pathlib import Path

import pytest

from scp_scanner.output.rolling import RollingCsvWriter, RollPolicy
from scp_scanner.scp.ledger import Ledger, recover, write_rows_once
from scp_scanner.scp.scheduler import Job, Scheduler

ROWS = [["a.dcm", 0, -1, -1, -1, 1, "JOHN SMITH"], ["a.dcm", 0, -1, -1, -1, 0, "Se:4"]]


def job(name: str) -> Job:
    return Job.of(Path("/spool/incoming") / f"{name}.dcm")


# -- scheduler -----------------------------------------------------------------------------
def test_runs_side_by_side_up_to_its_capacity() -> None:
    scheduler = Scheduler(capacity=2)
    assert scheduler.has_room() and not scheduler.isolating
    scheduler.started("t1", job("1.1"))
    scheduler.started("t2", job("1.2"))
    assert not scheduler.has_room() and scheduler.count() == 2
    assert scheduler.is_running("1.1") and not scheduler.is_running("1.3")
    done = scheduler.take("t1")
    scheduler.release(done)
    assert done == job("1.1") and scheduler.has_room() and not scheduler.is_running("1.1")
    assert scheduler.running() == ["t2"]


def test_a_dead_worker_makes_every_running_instance_a_suspect_retried_alone() -> None:
    scheduler = Scheduler(capacity=4)
    for n in (1, 2, 3):
        scheduler.started(f"t{n}", job(f"1.{n}"))
    first = scheduler.take("t1")                  # its future raised BrokenProcessPool
    assert scheduler.crashed(first) is False      # not alone: only a suspect
    scheduler.release(first)
    scheduler.suspect_all()                       # the pool restarts: the others are suspects too
    assert scheduler.isolating and scheduler.count() == 0 and not scheduler.is_running("1.2")

    order = []
    while scheduler.has_suspects:
        alone = scheduler.next_alone()
        assert alone is not None
        scheduler.started("alone", alone)
        assert scheduler.isolating and scheduler.next_alone() is None   # one at a time
        finished = scheduler.take("alone")
        scheduler.release(finished)
        order.append(finished.key)
    assert order == ["1.1", "1.2", "1.3"] and not scheduler.isolating


def test_an_instance_that_kills_a_worker_while_alone_is_the_culprit() -> None:
    scheduler = Scheduler(capacity=4)
    scheduler.started("t1", job("1.1"))
    scheduler.crashed(scheduler.take("t1"))
    scheduler.suspect_all()
    alone = scheduler.next_alone()
    scheduler.started("t2", alone)
    culprit = scheduler.take("t2")
    assert scheduler.crashed(culprit) is True     # goes to failed/, not back to the suspects
    scheduler.release(culprit)
    assert not scheduler.isolating and not scheduler.has_suspects


def test_no_new_work_starts_while_a_suspect_waits_for_the_running_ones() -> None:
    scheduler = Scheduler(capacity=4)
    scheduler.started("t1", job("1.1"))
    scheduler.started("t2", job("1.2"))
    scheduler.crashed(scheduler.take("t1"))
    assert scheduler.isolating and scheduler.next_alone() is None   # 1.2 still runs
    scheduler.release(scheduler.take("t2"))
    assert scheduler.next_alone() == job("1.1")


def test_a_suspect_that_was_not_started_ends_the_isolation() -> None:
    scheduler = Scheduler(capacity=4)
    scheduler.started("t1", job("1.1"))
    scheduler.suspect_all()
    assert scheduler.next_alone() == job("1.1")   # ... but its file is gone: not started
    scheduler.settle()
    assert not scheduler.isolating


# -- journal around rows -------------------------------------------------------------------
def writer_in(folder: Path) -> RollingCsvWriter:
    return RollingCsvWriter(folder, "scan", RollPolicy(None), fsync=False)


def test_rows_are_begun_written_then_committed(tmp_path: Path) -> None:
    writer, ledger = writer_in(tmp_path / "out"), Ledger(tmp_path / "done.log", fsync=False)
    write_rows_once(writer, ledger, "1.1", ROWS)
    path, offset = writer.position()
    writer.close()
    ledger.close()
    log = (tmp_path / "done.log").read_text().splitlines()
    assert log[0].startswith("B 1.1 ") and log[1].startswith("D 1.1 ") and len(log) == 2
    assert int(log[0].split()[3]) < offset        # the rows start where B says, and were written
    reopened = Ledger(tmp_path / "done.log")
    assert reopened.is_done("1.1") and reopened.open_entries == []


class FullDiskLedger(Ledger):
    """A real ledger whose confirmation hits a full disk once (fault injection)."""

    def commit(self, key: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_rows_whose_commit_fails_are_cut_back_and_abandoned(tmp_path: Path) -> None:
    writer = writer_in(tmp_path / "out")
    ledger = FullDiskLedger(tmp_path / "done.log", fsync=False)
    before = writer.position()
    with pytest.raises(OSError, match="No space"):
        write_rows_once(writer, ledger, "1.1", ROWS)
    assert writer.position() == before            # the rows are gone again
    assert before[0].stat().st_size == before[1]
    ledger.close()
    writer.close()
    log = (tmp_path / "done.log").read_text().splitlines()
    assert [line.split()[0] for line in log] == ["B", "X"]
    reopened = Ledger(tmp_path / "done.log")
    assert not reopened.is_done("1.1") and reopened.open_entries == []   # processed again


def test_a_crash_between_begin_and_commit_is_cut_back_at_the_next_start(tmp_path: Path) -> None:
    out = tmp_path / "out"
    writer, ledger = writer_in(out), Ledger(tmp_path / "done.log", fsync=False)
    write_rows_once(writer, ledger, "1.1", ROWS)
    kept = writer.position()
    writer.write_rows(ROWS, before_write=lambda path, offset: ledger.begin("1.2", path.name, offset))
    # a crash here: the rows of 1.2 are written, their D never is
    writer._file.close()
    ledger.close()
    after = Ledger(tmp_path / "done.log")
    assert [e.key for e in after.open_entries] == ["1.2"]
    assert recover(after, out) == ["1.2"]
    assert kept[0].stat().st_size == kept[1]      # back to where 1.2 began
    after.close()
    again = Ledger(tmp_path / "done.log")
    assert again.is_done("1.1") and not again.is_done("1.2") and again.open_entries == []
