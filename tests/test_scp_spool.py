"""Spool names, the exactly-once ledger and its crash recovery (no network)."""
from __future__ import annotations

import stat

from scp_scanner.output.rolling import HEADER, RollingCsvWriter, RollPolicy, encode_rows
from scp_scanner.scp.ledger import Ledger, recover
from scp_scanner.scp.spool import Spool, archive_path, is_hostile_uid, key_of, safe_name


def test_safe_names_never_leave_the_folder(tmp_path):
    assert safe_name("1.2.840.113619.2.55") == "1.2.840.113619.2.55"
    for uid in ["../../etc/passwd", "1.2/3", "1." + "2" * 70, "1.2.abc", "a\x00b", ".."]:
        name = safe_name(uid)
        assert name.startswith("h-") and set(name[2:]) <= set("0123456789abcdef")
        assert (tmp_path / name).resolve().parent == tmp_path.resolve()
    assert safe_name("1.2.abc") == safe_name("1.2.abc")
    assert is_hostile_uid("") and is_hostile_uid("1.2/../x") and not is_hostile_uid("1.2.abc")
    assert archive_path(tmp_path, "../x") .parent == tmp_path


def test_spool_prepare_accept_and_fail(tmp_path):
    spool = Spool(tmp_path / "spool", fsync=True)
    spool.prepare()
    (spool.tmp / "leftover.dcm").write_bytes(b"x")
    spool.prepare()                               # unacknowledged temp files are dropped
    assert not list(spool.tmp.iterdir())
    received = spool.tmp / "rx.dcm"
    received.write_bytes(b"data")
    stored = spool.accept(received, "1.2.3")
    assert stored == spool.incoming / "1.2.3.dcm" and key_of(stored) == "1.2.3"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600 and spool.pending() == [stored]
    moved = spool.fail(stored, "bad pixels")
    assert moved.exists() and moved.with_name("1.2.3.dcm.error").read_text() == "bad pixels\n"
    # The note was written aside and renamed in (a reader never sees it half-written).
    assert stat.S_IMODE(moved.with_name("1.2.3.dcm.error").stat().st_mode) == 0o600
    assert not list(spool.tmp.iterdir())
    # The note goes into failed/ before the instance (a monitor that sees the instance there
    # reads its note): an instance already gone leaves no note behind.
    assert spool.fail(spool.incoming / "gone.dcm", "bad pixels") is None
    assert not (spool.failed / "gone.dcm.error").exists() and not list(spool.tmp.iterdir())
    no_dedupe = Spool(tmp_path / "spool", dedupe=False)
    assert no_dedupe.entry_name("1.2.3") != no_dedupe.entry_name("1.2.3")


def test_ledger_recovery_cuts_unconfirmed_rows(tmp_path):
    out = tmp_path / "out"
    ledger = Ledger(tmp_path / "done.log")
    writer = RollingCsvWriter(out, "t", RollPolicy(None, 0))
    row = ["1.2.3", 0, -1, "", "", "", "", -1, -1, -1, -1, "", "", -1]
    writer.write_rows([row], before_write=lambda p, o: ledger.begin("1.2.3", p.name, o))
    ledger.commit("1.2.3")
    row2 = ["1.2.4"] + row[1:]
    # Crash in the middle of instance 1.2.4: B logged, half its rows on disk, no D.
    path, offset = writer.position()
    ledger.begin("1.2.4", path.name, offset)
    data = encode_rows([row2, row2])
    writer._file.write(data[: len(data) // 2 + 3])
    writer._file.flush()
    writer._file.close()
    ledger.close()

    reopened = Ledger(tmp_path / "done.log")
    assert reopened.is_done("1.2.3") and not reopened.is_done("1.2.4")
    assert recover(reopened, out) == ["1.2.4"]
    assert path.read_bytes() == HEADER + encode_rows([row])
    reopened.close()
    # Recovery is recorded: a second start does not cut again.
    again = Ledger(tmp_path / "done.log")
    assert again.open_entries == [] and again.is_done("1.2.3")


def test_ledger_ignores_a_torn_last_line(tmp_path):
    path = tmp_path / "done.log"
    path.write_bytes(b"B 1.2 f.csv.part 10\nD 1.2\nB 1.3 f.csv.part 20\nD 1.")
    ledger = Ledger(path)
    assert ledger.is_done("1.2") and not ledger.is_done("1.3")
    assert [e.key for e in ledger.open_entries] == ["1.3"]


def test_ledger_forgets_keys_after_the_retention(tmp_path):
    path = tmp_path / "done.log"
    path.write_bytes(b"D 1.old 1000\nD 1.new 99999999999\nD 1.legacy\n")
    ledger = Ledger(path, retention_days=30)
    assert not ledger.is_done("1.old") and ledger.is_done("1.new") and ledger.is_done("1.legacy")
    ledger.close()
    assert Ledger(path, retention_days=0).is_done("1.old")      # 0 = remember for ever


def test_sweep_removes_only_stale_temp_files(tmp_path):
    import os
    import time

    spool = Spool(tmp_path / "spool")
    spool.prepare()
    stale, fresh = spool.tmp / "stale.dcm", spool.tmp / "fresh.dcm"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    assert spool.sweep_tmp(900) == 1
    assert not stale.exists() and fresh.exists()
