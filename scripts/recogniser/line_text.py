"""Text for recogniser training lines, drawn from none of the corpus generator's lists.

tests/dicomgen.py burns names, hospitals, IDs and settings from its own lists; a recogniser
trained on those would learn the benchmark's vocabulary, and the held-out seeds share it. So
the training images keep the generator's looks (its cases, fonts of the `tuning` set, sizes,
JPEG, colour, backgrounds) but carry this text instead: English words from wordfreq in three
cases, random numbers, dates and times in eleven and five forms, codes, key:value settings,
measurements with units, names joined in DICOM and plain forms, and random strings of the
Latin characters the engine reads."""
from __future__ import annotations

import datetime as dt
import random
import string
import sys
from pathlib import Path

import wordfreq

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
import dicomgen  # noqa: E402
from dicomgen import Annotation, Segment  # noqa: E402

WORDS = [w for w in wordfreq.top_n_list("en", 40000) if w.isalpha() and len(w) >= 2]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
LONG_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"]
UNITS = ["mm", "cm", "Hz", "kHz", "MHz", "dB", "%", "bpm", "s", "ms", "kV", "kVp", "mA", "mAs",
         "fps", "cm/s", "m/s", "mmHg", "ml", "deg", "x", "T", "Gy", "mGy", "keV"]
PUNCT = "^:/.-,()[]#+*=%&'_<>@!?;\"|~{}$\\"
ALL = string.ascii_letters + string.digits + PUNCT + "°µ±²³ÄÖÜäöüéèàçñÅåØø"


def word(rnd: random.Random) -> str:
    w = rnd.choice(WORDS)
    style = rnd.random()
    if style < 0.35:
        return w.upper()
    if style < 0.75:
        return w.capitalize()
    return w


def number(rnd: random.Random) -> str:
    kind = rnd.random()
    if kind < 0.35:
        return str(rnd.randint(0, 10 ** rnd.randint(1, 4)))
    if kind < 0.55:
        return f"{rnd.uniform(0, 200):.{rnd.randint(1, 2)}f}"
    if kind < 0.8:
        return "".join(rnd.choice(string.digits) for _ in range(rnd.randint(5, 12)))
    d = "".join(rnd.choice(string.digits) for _ in range(10))
    return f"{d[:3]} {d[3:6]} {d[6:]}"


def date(rnd: random.Random) -> str:
    d = dt.date(1920, 1, 1) + dt.timedelta(days=rnd.randint(0, 40000))
    fmt = rnd.randint(0, 10)
    return [f"{d:%d-%b-%Y}", f"{d:%d/%m/%Y}", f"{d:%Y-%m-%d}", f"{d:%Y%m%d}", f"{d:%d.%m.%Y}",
            f"{d:%b %d %Y}", f"{d.day} {LONG_MONTHS[d.month - 1]} {d.year}", f"{d:%m/%d/%y}",
            f"{d:%d-%b-%y}".upper(), f"{d:%Y/%m/%d}", f"{d:%d %b %Y}"][fmt]


def clock(rnd: random.Random) -> str:
    h, m, s = rnd.randint(0, 23), rnd.randint(0, 59), rnd.randint(0, 59)
    return rnd.choice([f"{h:02d}:{m:02d}:{s:02d}", f"{h:02d}:{m:02d}", f"{h}:{m:02d}:{s:02d} {'AM' if h < 12 else 'PM'}",
                       f"{h:02d}{m:02d}{s:02d}", f"{h:02d}.{m:02d}.{s:02d}"])


def code(rnd: random.Random) -> str:
    letters = "".join(rnd.choice(string.ascii_uppercase) for _ in range(rnd.randint(1, 3)))
    digits = "".join(rnd.choice(string.digits) for _ in range(rnd.randint(3, 10)))
    return rnd.choice([letters + digits, letters + "-" + digits, digits + letters])


def keyvalue(rnd: random.Random) -> str:
    key = rnd.choice([word(rnd)[:rnd.randint(1, 4)],
                      "".join(rnd.choice(string.ascii_letters) for _ in range(rnd.randint(1, 3)))])
    value = rnd.choice([str(rnd.randint(0, 999)), f"{rnd.uniform(0, 20):.1f}", word(rnd)])
    return rnd.choice([f"{key}:{value}", f"{key}: {value}", f"{key} {value}", f"{key}={value}"])


def unit(rnd: random.Random) -> str:
    n = rnd.choice([str(rnd.randint(0, 500)), f"{rnd.uniform(0, 50):.1f}"])
    return rnd.choice([f"{n} {rnd.choice(UNITS)}", f"{n}{rnd.choice(UNITS)}"])


def name(rnd: random.Random) -> str:
    a, b = rnd.choice(WORDS), rnd.choice(WORDS)
    return rnd.choice([f"{a.upper()}^{b.upper()}", f"{a.capitalize()}, {b.capitalize()}",
                       f"{b.capitalize()} {a.capitalize()}", f"{a.upper()}, {b.upper()}",
                       f"{a.upper()}^{b.upper()}^{rnd.choice(string.ascii_uppercase)}"])


def noise(rnd: random.Random) -> str:
    return "".join(rnd.choice(ALL) for _ in range(rnd.randint(1, 8)))


MAKERS = [(word, 30), (number, 12), (date, 10), (clock, 8), (code, 8), (keyvalue, 10),
          (unit, 8), (name, 10), (noise, 6)]


def token(rnd: random.Random) -> str:
    makers, weights = zip(*MAKERS)
    return rnd.choices(makers, weights)[0](rnd)


def segment(rnd: random.Random) -> str:
    n = rnd.choices([1, 2, 3, 4], [45, 30, 15, 10])[0]
    return " ".join(token(rnd) for _ in range(n))


def line(rnd: random.Random) -> tuple:
    return tuple(Segment(segment(rnd), True) for _ in range(rnd.choices([1, 2, 3], [60, 30, 10])[0]))


def random_annotation(identity, modality: str, rnd: random.Random, text: str) -> Annotation:
    if text == "none":
        return Annotation()
    regions = {}
    for region, lo, hi in (("top_left", 1, 5), ("top_right", 1, 4), ("bottom_left", 0, 3),
                           ("bottom_right", 0, 3)):
        regions[region] = [line(rnd) for _ in range(rnd.randint(lo, hi))]
    if rnd.random() < 0.3:
        regions["mid_left"] = [(Segment(rnd.choice("RLAPHFSI"), False),)]
        regions["mid_right"] = [(Segment(rnd.choice("RLAPHFSI"), False),)]
    return Annotation.of(**regions)


def install() -> None:
    """Make the generator's builders draw random_annotation's text."""
    dicomgen.make_annotation = random_annotation
