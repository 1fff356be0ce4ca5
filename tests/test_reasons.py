"""The opt-in `reasons` column: `scan --reasons` (real tesseract + spaCy on synthetic files),
per-box reasons from the judge, and the service's rolling files with `output.reasons`."""
from __future__ import annotations

import csv
import io

import pytest

import review_corpus
from scp_scanner.model import InstanceInfo, TextBox
from scp_scanner.output.rolling import HEADER, REASONS_HEADER, RollingCsvWriter, RollPolicy
from scp_scanner.output.rows import COLUMNS, REASONS_COLUMN, columns
from scp_scanner.pii import create
from scp_scanner.pii.judge import judge


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    folder, truths, out = review_corpus.made(tmp_path_factory, "reasons")
    plain = review_corpus.scan(folder, out / "plain.csv")
    with_reasons = review_corpus.scan(folder, out / "reasons.csv", "--reasons")
    return truths, plain, with_reasons, out


def test_reasons_column_is_one_more_column_after_the_fourteen(both):
    _, plain, with_reasons, out = both
    header = (out / "reasons.csv").read_text().splitlines()[0].split(",")
    assert tuple(header) == COLUMNS + (REASONS_COLUMN,) == columns(reasons=True)
    assert tuple((out / "plain.csv").read_text().splitlines()[0].split(",")) == COLUMNS
    # The 14 columns are exactly those of a scan without --reasons, row for row.
    assert len(plain) == len(with_reasons)
    for a, b in zip(plain, with_reasons):
        assert a == {k: b[k] for k in COLUMNS}


def test_reasons_are_given_exactly_where_something_fired(both):
    truths, _, rows, _ = both
    flagged = [r for r in rows if r["is_sensitive"] == "1"]
    assert flagged, "the corpus has identifying text"
    for row in rows:
        if row["is_sensitive"] == "1":
            assert row["reasons"], row
        else:
            assert row["reasons"] == "", row
    # Each whole-image reason quotes text that is in that image's OCR text (or names a rule).
    for row in flagged:
        if row["left"] == "-1":
            for reason in row["reasons"].split("; "):
                rule, _, quoted = reason.partition(" ")
                assert rule and quoted.startswith("'") or quoted.startswith('"'), reason
    whole = [r for r in flagged if r["left"] == "-1"]
    rules = {reason.split(" ")[0] for r in whole for reason in r["reasons"].split("; ")}
    assert any(rule.startswith("header:") for rule in rules), rules
    # A flagged box's reasons are among its image's reasons.
    by_image = {(r["filename"], r["frame"], r["overlay"]): set(r["reasons"].split("; ")) for r in whole}
    for row in flagged:
        if row["left"] != "-1":
            assert set(row["reasons"].split("; ")) <= by_image[(row["filename"], row["frame"], row["overlay"])]


def test_judge_gives_per_box_reasons():
    ner = create("spacy")
    info = InstanceInfo("x.dcm", identifiers=(("PatientID", "98765432"),))
    boxes = [TextBox(t, 0, 0, 10, 10) for t in ("W:400 L:40", "John Smith", "ID 98765432", "HFS")]
    verdict = judge(boxes, info, ner)
    assert verdict.box_sensitive == (False, True, True, False)
    assert verdict.reasons_of(0) == () and verdict.reasons_of(3) == ()
    # (the small model's entity span may take in neighbouring boxes; the reason quotes it)
    assert any(r.startswith("ner:PERSON '") and "John Smith" in r for r in verdict.reasons_of(1)), verdict
    assert "given-name 'John'" in verdict.reasons_of(1)
    assert "header:PatientID '98765432'" in verdict.reasons_of(2), verdict
    assert set(verdict.reasons_of(1) + verdict.reasons_of(2)) <= set(verdict.reasons)


def test_text_seen_but_not_read_is_flagged_with_its_own_reason():
    """A box of coloured text the recogniser could not read (TextBox.unread) has no text; it
    is flagged, and so is its image, though nothing else in it is identifying, and it adds
    nothing to the text NER reads."""
    from scp_scanner.pii.judge import UNREAD
    from scp_scanner.text import box_spans, whole_text

    ner = create("spacy")
    info = InstanceInfo("x.dcm", identifiers=(("PatientID", "98765432"),))
    boxes = [TextBox("W:400 L:40", 0, 0, 10, 10), TextBox("", 0, 20, 60, 28, unread=True), TextBox("HFS", 0, 40, 9, 48)]
    assert whole_text(boxes) == "W:400 L:40 HFS"
    assert box_spans(boxes) == [(0, 10), (11, 11), (11, 14)]
    verdict = judge(boxes, info, ner)
    assert verdict.box_sensitive == (False, True, False) and verdict.sensitive
    assert verdict.reasons_of(1) == (UNREAD,) and verdict.reasons == (UNREAD,)
    alone = judge([TextBox("", 0, 20, 60, 28, unread=True)], info, ner)
    assert alone.box_sensitive == (True,) and alone.sensitive
    # The same boxes, all read: nothing flagged.
    clean = judge([boxes[0], boxes[2]], info, ner)
    assert clean.box_sensitive == (False, False) and not clean.sensitive and clean.reasons == ()


def test_rolling_writer_keeps_each_files_own_header(tmp_path):
    writer = RollingCsvWriter(tmp_path, "t", RollPolicy(None, 0), fsync=False, header=REASONS_HEADER)
    path, offset = writer.write_rows([["a.dcm", 0, -1] + [""] * 11 + ["ner:PERSON 'A B'"]])
    assert offset == len(REASONS_HEADER)
    writer._file.close()                       # a crash: the .part stays with its header
    # Restarted without reasons: the old file is completed as it is, a new one gets 14 columns.
    writer = RollingCsvWriter(tmp_path, "t", RollPolicy(None, 0), fsync=False, header=HEADER)
    assert writer.active_path is None
    done = writer.completed_files()
    assert len(done) == 1 and done[0].read_bytes().startswith(REASONS_HEADER)
    assert list(csv.reader(io.StringIO(done[0].read_text())))[1][-1] == "ner:PERSON 'A B'"
    new, offset = writer.write_rows([["b.dcm", 0, -1] + [""] * 11])
    assert offset == len(HEADER) and new.read_bytes().startswith(HEADER)
    writer.close()
