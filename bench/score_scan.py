#!/usr/bin/env python3
"""Score a scanner CSV against a synthetic corpus's truth.json, per case and overall.

Why: it is the yardstick for OCR/NER engine choices and for regressions, scored the way the
issue's checker scores: per image listed, a truth word counts as found when each of its tokens
appears (case- and punctuation-insensitively) as a token of that image's whole-text row
(left = -1); an image holding identifying words should be flagged (is_sensitive = 1), one
without should not.

    .venv/bin/python bench/make_corpus.py /tmp/corpus --count 40
    .venv/bin/python bench/score_scan.py /tmp/corpus                       # runs the scanner
    .venv/bin/python bench/score_scan.py /tmp/corpus --csv out.csv         # scores a CSV
    .venv/bin/python bench/score_scan.py /tmp/corpus --ocr easyocr --pii flair,/path/model.pt
    .venv/bin/python bench/score_scan.py /tmp/corpus \\
        --cmd '.venv/bin/scp-scanner scan --ocr easyocr --pii spacy --rects {files} -o {out}'
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import dicomgen  # noqa: E402  (lives in tests/, shared with the test suite)
from dicomgen import ImageTruth, Truth  # noqa: E402

DEFAULT_CMD = ".venv/bin/scp-scanner scan --ocr {ocr} --pii {pii} --rects {files} -o {out}"

ImageKey = tuple[str, int, int]          # (file name, frame, overlay)


# --- tokens ----------------------------------------------------------------------------------


def normalise_token(token: str) -> str:
    """Lower case, letters and digits only: 'DOE^JOHN' -> 'doejohn', 'W:400' -> 'w400'."""
    return "".join(c for c in token.lower() if c.isalnum())


def word_tokens(text: str, split_punct: bool = False) -> list[str]:
    """Whitespace-separated tokens, normalised. With split_punct, punctuation also separates
    ('DOE^JOHN' -> 'doe', 'john'): lenient where OCR reads '^' as a space, for comparison."""
    if split_punct:
        text = "".join(c if c.isalnum() else " " for c in text)
    return [t for t in (normalise_token(p) for p in text.split()) if t]


def tokens(text: str, split_punct: bool = False) -> set[str]:
    return set(word_tokens(text, split_punct))


def word_found(word: str, text_tokens: set[str], split_punct: bool = False) -> bool:
    """A word counts as found when every one of its tokens is a token of the image's text."""
    wanted = word_tokens(word, split_punct)
    return bool(wanted) and all(t in text_tokens for t in wanted)


# --- reading the scanner's CSV ---------------------------------------------------------------


@dataclass(frozen=True)
class WholeRow:
    """An image's whole-text row (left = -1): its text and is_sensitive (1, 0 or -1)."""

    text: str
    sensitive: int


def image_key(filename: str, frame: int, overlay: int) -> ImageKey:
    return (os.path.basename(filename), int(frame), int(overlay))


def _int(value: str | None, default: int) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        return default


def read_whole_rows(csv_path: str | os.PathLike) -> dict[ImageKey, WholeRow]:
    """Whole-text rows by image; several rows for one image are joined (texts) and OR-ed."""
    rows: dict[ImageKey, WholeRow] = {}
    with open(csv_path, newline="", encoding="utf-8") as f:
        for record in csv.DictReader(f):
            if record.get("filename") == "filename":            # header repeated mid-file
                continue
            if _int(record.get("left"), 0) != -1:
                continue
            key = image_key(record["filename"], _int(record["frame"], -1), _int(record["overlay"], -1))
            sensitive = _int(record.get("is_sensitive"), -1)
            old = rows.get(key)
            if old is not None:
                text = (old.text + " " + record["ocr_text"]).strip()
                sensitive = max(old.sensitive, sensitive)
            else:
                text = record["ocr_text"] or ""
            rows[key] = WholeRow(text, sensitive)
    return rows


# --- scoring ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """Counts for one case (or all): each fraction is found / total."""

    files: int = 0
    images: int = 0
    images_listed: int = 0
    words: int = 0
    words_found: int = 0
    pii_words: int = 0
    pii_words_found: int = 0
    pii_images: int = 0
    pii_images_flagged: int = 0
    clean_images: int = 0
    clean_images_flagged: int = 0

    def add(self, other: Tally) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass(frozen=True)
class Miss:
    key: ImageKey
    word: str
    pii: bool
    text: str              # the image's whole text as the scanner read it ("" when not listed)
    listed: bool


@dataclass
class Scores:
    per_case: dict[str, Tally]
    total: Tally
    misses: list[Miss] = field(default_factory=list)
    missed_images: list[ImageKey] = field(default_factory=list)
    flag_errors: list[tuple[ImageKey, bool, int]] = field(default_factory=list)  # (key, has_pii, flag)
    extra_rows: list[ImageKey] = field(default_factory=list)
    seconds: float | None = None

    @property
    def seconds_per_image(self) -> float | None:
        if self.seconds is None or not self.total.images:
            return None
        return self.seconds / self.total.images


def score_image(image: ImageTruth, row: WholeRow | None, split_punct: bool = False) -> Tally:
    tally = Tally(images=1, images_listed=int(row is not None))
    found = tokens(row.text, split_punct) if row is not None else set()
    for w in image.words:
        hit = word_found(w.text, found, split_punct)
        tally.words += 1
        tally.words_found += hit
        if w.pii:
            tally.pii_words += 1
            tally.pii_words_found += hit
    flagged = row is not None and row.sensitive == 1
    if image.has_pii:
        tally.pii_images, tally.pii_images_flagged = 1, int(flagged)
    else:
        tally.clean_images, tally.clean_images_flagged = 1, int(flagged)
    return tally


def score(truths: list[Truth], rows: dict[ImageKey, WholeRow], split_punct: bool = False) -> Scores:
    per_case: dict[str, Tally] = {}
    total = Tally()
    scores = Scores(per_case, total)
    expected: set[ImageKey] = set()
    for truth in truths:
        case = per_case.setdefault(truth.case, Tally())
        case.files += 1
        total.files += 1
        for image in truth.images:
            key = image_key(truth.path, image.frame, image.overlay)
            expected.add(key)
            row = rows.get(key)
            tally = score_image(image, row, split_punct)
            case.add(tally)
            total.add(tally)
            if row is None:
                scores.missed_images.append(key)
            found = tokens(row.text, split_punct) if row is not None else set()
            for w in image.words:
                if not word_found(w.text, found, split_punct):
                    scores.misses.append(Miss(key, w.text, w.pii, row.text if row else "",
                                              row is not None))
            flag = row.sensitive if row is not None else -1
            if (flag == 1) != image.has_pii:
                scores.flag_errors.append((key, image.has_pii, flag))
    scores.extra_rows = sorted(k for k in rows if k not in expected)
    return scores


# --- running the scanner ---------------------------------------------------------------------


def build_command(template: str, files: list[str], out: str, ocr: str, pii: str) -> list[str]:
    """shlex-split the template; {files} becomes the file arguments, {out} the CSV path,
    {ocr}/{pii} the engines. Without {files} the files are appended, without {out} '-o OUT'."""
    argv: list[str] = []
    for part in shlex.split(template):
        if part == "{files}":
            argv.extend(files)
        else:
            argv.append(part.replace("{out}", out).replace("{ocr}", ocr).replace("{pii}", pii))
    if "{files}" not in template:
        argv.extend(files)
    if "{out}" not in template:
        argv.extend(["-o", out])
    return argv


@dataclass(frozen=True)
class RunResult:
    argv: list[str]
    returncode: int
    seconds: float
    stderr_tail: str


def run_scanner(argv: list[str], timeout: float | None = None) -> RunResult:
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    return RunResult(argv, proc.returncode, elapsed, (proc.stderr or "")[-2000:])


# --- reporting -------------------------------------------------------------------------------


def _frac(found: int, total: int) -> str:
    if not total:
        return "-"
    return f"{found}/{total} {100.0 * found / total:5.1f}%"


COLUMNS = ("case", "files", "images listed", "words found", "PII words found",
           "PII images flagged", "clean images flagged")


def table_rows(scores: Scores) -> list[list[str]]:
    def line(name: str, t: Tally) -> list[str]:
        return [name, str(t.files), _frac(t.images_listed, t.images), _frac(t.words_found, t.words),
                _frac(t.pii_words_found, t.pii_words), _frac(t.pii_images_flagged, t.pii_images),
                _frac(t.clean_images_flagged, t.clean_images)]
    return [line(name, t) for name, t in scores.per_case.items()] + [line("ALL", scores.total)]


def format_table(scores: Scores) -> str:
    body = [list(COLUMNS)] + table_rows(scores)
    widths = [max(len(r[i]) for r in body) for i in range(len(COLUMNS))]
    out = []
    for n, r in enumerate(body):
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if n == 0 or n == len(body) - 2:
            out.append("  ".join("-" * w for w in widths))
    per_image = scores.seconds_per_image
    if per_image is not None:
        out.append(f"seconds per image: {per_image:.3f} ({scores.seconds:.1f} s for "
                   f"{scores.total.images} images in {scores.total.files} files)")
    else:
        out.append("seconds per image: n/a (scored an existing CSV)")
    if scores.extra_rows:
        out.append(f"rows for images not in the truth: {len(scores.extra_rows)} "
                   f"(e.g. {scores.extra_rows[:3]})")
    return "\n".join(out)


def format_details(scores: Scores, limit: int = 40) -> str:
    out = []
    if scores.missed_images:
        out.append(f"images not listed ({len(scores.missed_images)}): {scores.missed_images[:limit]}")
    misses = [m for m in scores.misses if m.pii] + [m for m in scores.misses if not m.pii]
    for m in misses[:limit]:
        where = f"{m.key[0]} f{m.key[1]} o{m.key[2]}"
        seen = repr(m.text[:120]) if m.listed else "(image not listed)"
        out.append(f"missed {'PII ' if m.pii else 'safe'} {m.word!r:28} {where}: {seen}")
    for key, has_pii, flag in scores.flag_errors[:limit]:
        out.append(f"flag {'missed' if has_pii else 'false '}: {key[0]} f{key[1]} o{key[2]} is_sensitive={flag}")
    return "\n".join(out)


def scores_json(scores: Scores, run: RunResult | None) -> dict:
    return {
        "per_case": {name: asdict(t) for name, t in scores.per_case.items()},
        "total": asdict(scores.total),
        "seconds": scores.seconds,
        "seconds_per_image": scores.seconds_per_image,
        "command": run.argv if run else None,
        "returncode": run.returncode if run else None,
        "missed_images": [list(k) for k in scores.missed_images],
        "extra_rows": [list(k) for k in scores.extra_rows],
        "misses": [{"file": m.key[0], "frame": m.key[1], "overlay": m.key[2], "word": m.word,
                    "pii": m.pii, "text": m.text} for m in scores.misses],
    }


# --- command line ----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[8:]))
    parser.add_argument("corpus", type=Path, help="corpus folder (with truth.json) or a truth.json")
    parser.add_argument("--csv", type=Path, help="score this CSV instead of running the scanner")
    parser.add_argument("--cmd", default=DEFAULT_CMD,
                        help="scanner command template; placeholders {files} {out} {ocr} {pii} "
                             f"(default: {DEFAULT_CMD!r}, run from the repository root)")
    parser.add_argument("--ocr", default="tesseract", help="OCR engine for {ocr} (default tesseract)")
    parser.add_argument("--pii", default="spacy", help="PII engine for {pii} (default spacy)")
    parser.add_argument("-o", "--out", type=Path, help="where the scanner writes its CSV "
                                                       "(default: a private temporary file)")
    parser.add_argument("--json", type=Path, help="also write the scores as JSON here")
    parser.add_argument("--split-punct", action="store_true",
                        help="let punctuation separate tokens too (lenient: 'DOE JOHN' finds "
                             "'DOE^JOHN'); the default follows the checker")
    parser.add_argument("--details", action="store_true",
                        help="list missed words, unlisted images and wrong flags")
    parser.add_argument("--timeout", type=float, default=None, help="seconds before the scanner is stopped")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    truths = dicomgen.read_truth(args.corpus.resolve())
    names = [os.path.basename(t.path) for t in truths]
    if len(set(names)) != len(names):
        print("truth file names are not unique; CSV rows are matched by file name", file=sys.stderr)
        return 2
    run: RunResult | None = None
    with tempfile.TemporaryDirectory(prefix="score-scan-") as tmp:
        csv_path = args.csv
        if csv_path is None:
            csv_path = args.out or Path(tmp) / "scan.csv"
            command = build_command(args.cmd, [t.path for t in truths], str(csv_path),
                                    args.ocr, args.pii)
            print("running:", shlex.join(command[:8]) + (" ..." if len(command) > 8 else ""),
                  file=sys.stderr)
            try:
                run = run_scanner(command, args.timeout)
            except subprocess.TimeoutExpired:
                print(f"scanner did not finish within {args.timeout} s", file=sys.stderr)
                return 1
            except OSError as exc:
                print(f"cannot run scanner: {exc}", file=sys.stderr)
                return 1
            if run.returncode != 0:
                print(f"scanner exited {run.returncode}:\n{run.stderr_tail}", file=sys.stderr)
            if not Path(csv_path).exists():
                print(f"no CSV at {csv_path}; nothing to score", file=sys.stderr)
                return 1
        rows = read_whole_rows(csv_path)
    scores = score(truths, rows, args.split_punct)
    scores.seconds = run.seconds if run else None
    print(format_table(scores))
    if args.details:
        print(format_details(scores))
    if args.json:
        args.json.write_text(json.dumps(scores_json(scores, run), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
