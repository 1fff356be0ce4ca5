"""Fields whose form is known, read as the likeliest reading of that form.

Two fields of burned-in text admit only certain readings, whatever the font:
- the month of a date written day-month-year (`03-Oct-1947`) is one of twelve names;
- an NHS or CHI number (10 digits after an `NHS` or `CHI` label, spaced 3-3-4 or not)
  ends in a modulus-11 check digit over the other nine.

When the recogniser's greedy reading of such a field is not of its form (`03-Od-1947`,
`04-Jut-2025`, `NHS 4910665438` whose check digit fails), the field is read again from the
recogniser's own output: each reading of the form is scored by its CTC likelihood over the
field's time steps (lexicon.ctc_log_likelihood), and the likeliest is kept. Every month is
as likely as another beforehand, so the choice is the recogniser's alone. For a number, the
candidates are the valid numbers one digit away (a 10-digit number has at most one valid
digit per place), so a misread digit is put back where the model was least sure of it.
A reading not of its form keeps a small prior of its own (UNFORMED: test data is typed
without check digits), so one the recogniser was sure of stays as read. A field already of
its form is never touched, nor is a number under another label (`ID:`, `Acc`: hospital
numbers have no check digit). fixups.month_names, which works on the text alone, runs after
this in the engine's mend: it covers dates written with blanks (`12 Dee 2020`) and the
engine run with `lexicon=False`.
"""
from __future__ import annotations

import math
import re

import numpy as np

from ..pii.rules import mod11_ok
from .fixups import MONTH_ABBREVIATIONS
from .lexicon import ctc_log_likelihood, replace_spans, word_steps

# day, separator, month token (2-4 characters, a letter among them), separator, year.
_DATE = re.compile(r"(?<![\w.:/-])(\d{1,2})(-)((?=[A-Za-z0-9|]*[A-Za-z])[A-Za-z0-9|]{2,4})(-?)((?:19|20)\d{2})(?!\d)")
# NHS / CHI, an optional "No" or "Number", an optional ':' or '#', the 10 digits.
_LABELLED_NUMBER = re.compile(r"\b(?:NHS|CHI)(?: ?(?:No|Number)\.?)? ?[:#]? ?(\d{3} ?\d{3} ?\d{4}|\d{10})(?!\d)")
# A month as dates write it in 2-4 letters: the abbreviations, and June, July, Sept whole.
_MONTHS = {month.lower() for month in MONTH_ABBREVIATIONS} | {"june", "july", "sept"}
# The prior share of such fields shown on screen that are not of their form (a number typed
# into a demo system without its check digit): a greedy reading that the recogniser was sure
# of (the best reading of the form under 1/10,000 as likely) is kept.
UNFORMED = 1e-4


def _check_digit_fixes(number: str) -> list[str]:
    """The valid numbers one digit away from `number` (spaces kept where they are)."""
    places = [i for i, ch in enumerate(number) if ch.isdigit()]
    out = []
    for place in places:
        for digit in "0123456789":
            if digit == number[place]:
                continue
            candidate = number[:place] + digit + number[place + 1:]
            if mod11_ok(candidate.replace(" ", "")):
                out.append(candidate)
    return out


def _month_readings(token: str) -> list[str]:
    """The twelve month names written as the token was (Title, CAPITALS or lower)."""
    if token.isupper():
        return [m.upper() for m in MONTH_ABBREVIATIONS]
    if token[:1].islower():
        return [m.lower() for m in MONTH_ABBREVIATIONS]
    return list(MONTH_ABBREVIATIONS)


def _fields(text: str) -> list[tuple[int, int, list[str]]]:
    """Each field not of its form: (start, end, the readings of its form)."""
    found = []
    for match in _DATE.finditer(text):
        if match[3].lower() not in _MONTHS:
            found.append((match.start(3), match.end(3), _month_readings(match[3])))
    for match in _LABELLED_NUMBER.finditer(text):
        if not mod11_ok(match[1].replace(" ", "")):
            found.append((match.start(1), match.end(1), _check_digit_fixes(match[1])))
    return found


def mend_fields(text: str, steps: list[int], probs: np.ndarray,
                index: dict[str, int]) -> tuple[str, list[int]]:
    """The reading with each field that is not of its form read as the likeliest reading
    that is, and each character's time step (a replaced field's spread over the old one's).
    text and steps: the greedy CTC reading of one line and each character's time step;
    probs: the recogniser's output (steps x classes); index: each character's class."""
    if len(steps) != len(text):
        return text, steps
    argmax = probs.argmax(axis=1)
    changes = []
    for start, end, readings in _fields(text):
        first, last = word_steps(argmax, steps, start, end)
        window = probs[first:last]
        scored = [(ctc_log_likelihood(window, [index[c] for c in reading]), reading)
                  for reading in readings
                  if all(c in index for c in reading) and window.shape[0] >= len(reading)]
        if not scored:
            continue
        likeliest, reading = max(scored)
        kept = ctc_log_likelihood(window, [index[c] for c in text[start:end]])
        if likeliest + math.log1p(-UNFORMED) > kept + math.log(UNFORMED):
            changes.append((start, end, reading))
    return replace_spans(text, steps, changes)
