"""output/rolling.py: header per file, .part -> .csv, roll by time and size, torn-line repair."""
from __future__ import annotations

import csv
import stat

from scp_scanner.output.rolling import (HEADER, RollingCsvWriter, RollPolicy, encode_rows,
                                        last_record_end, repair_part)
from scp_scanner.output.rows import COLUMNS


class Clock:
    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def row(name: str, text: str = "text") -> list:
    return [name, 0, -1, "ORIGINAL", "M", "", "tesseract", -1, -1, -1, -1, text, "spacy", 0]


def read(path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_header_part_suffix_and_close(tmp_path):
    writer = RollingCsvWriter(tmp_path / "out", "t", RollPolicy(None, 0), fsync=False)
    path, offset = writer.write_rows([row("a"), row("a")])
    assert path.name.endswith(".csv.part") and offset == len(HEADER)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o700
    writer.close()
    done, = writer.completed_files()
    assert done.name.endswith(".csv") and not path.exists()
    assert [r["filename"] for r in read(done)] == ["a", "a"]
    assert list(read(done)[0]) == list(COLUMNS)


def test_rolls_by_size_without_splitting_an_instance(tmp_path):
    writer = RollingCsvWriter(tmp_path, "t", RollPolicy(None, len(HEADER) + 300), fsync=False)
    for i in range(10):
        writer.write_rows([row(f"i{i}"), row(f"i{i}")])
    writer.close()
    files = writer.completed_files()
    assert len(files) >= 3
    seen = []
    for path in files:
        names = [r["filename"] for r in read(path)]
        assert names and len(names) % 2 == 0 and names[::2] == names[1::2]   # pairs kept together
        seen += names[::2]
    assert seen == [f"i{i}" for i in range(10)]


def test_rolls_by_time(tmp_path):
    clock = Clock(86400 * 20000 + 100)
    writer = RollingCsvWriter(tmp_path, "t", RollPolicy(86400, 0), fsync=False, clock=clock)
    writer.write_rows([row("day1")])
    clock.now += 86400
    assert writer.maybe_roll()                  # an idle writer still completes the day's file
    writer.write_rows([row("day2")])
    completed = writer.completed_files()
    assert len(completed) == 1 and [r["filename"] for r in read(completed[0])] == ["day1"]
    assert [r["filename"] for r in read(writer.active_path)] == ["day2"]


def test_torn_last_record_is_repaired_on_start(tmp_path):
    writer = RollingCsvWriter(tmp_path, "t", RollPolicy(None, 0), fsync=False)
    path, _ = writer.write_rows([row("a", 'multi\nline "quoted" text')])
    writer._file.close()                          # simulate a crash: no roll
    with open(path, "ab") as handle:
        handle.write(encode_rows([row("b")])[:25])  # a torn record
    resumed = RollingCsvWriter(tmp_path, "t", RollPolicy(None, 0), fsync=False)
    assert resumed.active_path == path
    resumed.write_rows([row("c")])
    resumed.close()
    done, = resumed.completed_files()
    rows = read(done)
    assert [r["filename"] for r in rows] == ["a", "c"]
    assert rows[0]["ocr_text"] == 'multi\nline "quoted" text'


def test_last_record_end_respects_quotes():
    data = encode_rows([["x", 'a\nb'], ["y", "z"]])
    assert last_record_end(data) == len(data)
    assert last_record_end(data[:-1]) == len(encode_rows([["x", 'a\nb']]))
    assert last_record_end(b'x,"a\nb') == 0


def test_torn_header_is_rewritten(tmp_path):
    part = tmp_path / "t-20240101T000000Z.csv.part"
    part.write_bytes(HEADER[:10])
    assert repair_part(part) == len(HEADER)
    assert part.read_bytes() == HEADER
