"""Words the recogniser misread by a letter, mended with an English word prior.

A CTC recogniser emits, for each time step across a line, a probability for every
character. Greedy decoding keeps the likeliest character at each step, so a thin or small
glyph it was unsure of comes out as its nearest rival: `ABDOHEN`, `Infirnary`, `Mohanmed`.
The other reading is often still there, a little less likely. This module weighs the two the
way a noisy-channel speller does, with the recogniser itself as the channel:

    score(word) = log P(the line's steps | word) + log P(word)

- log P(steps | word) is the CTC likelihood of the word over the time steps the greedy reading
  gave to it (`ctc_log_likelihood`, the forward algorithm over the model's own output);
- log P(word) is the word's frequency in running English text, from wordfreq's `best`
  English list (Apache-2.0 code, CC-BY-SA data, many sources: names and places included).

Each word of four or more letters is weighed against the list's words one edit away (a
letter changed, dropped or added, or one of the shapes recognisers merge or split: `rn`/`m`,
`cl`/`d`, `al`/`d`, `vv`/`w`); the list holds the words seen at least once per 10 million words,
~90,000 of them. A candidate replaces the reading when its score beats the reading's: a
listed reading has its own frequency as its prior (`HURRAY` is a word, but `MURRAY` is 25
times more frequent, so a recogniser torn between them reads `MURRAY`); an unlisted one has
the prior of a word ten times rarer than the list's rarest. Both terms are probabilities in
the same units; nothing is weighted. Codes (letters next to digits) and words under four
letters are never touched, and never made (`ASXS` does not become `ASS`), except that a word
of letters with one digit or `|` among them and no other digit (`5TEWART`, `Campbel1`,
`DOE^|ANE`) is weighed against the listed words with a letter of that shape in its place.

The recogniser is surer of itself than it is right, so the engine hands this module its
output tempered (`calibrated`, temperature scaling, the temperature fitted on labelled lines
of fonts the recogniser never saw: scripts/recogniser/calibrate.py); otherwise a glyph it
merged (`Westem`) could never outweigh its certainty, however common the word.
"""
from __future__ import annotations

import gzip
import importlib.util
import math
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..pii.given_names import GIVEN_NAMES
from ..registry import EngineError

INSTALL = "pip install 'wordfreq>=3.1,<4'"


@dataclass(frozen=True)
class LexiconParams:
    min_letters: int = 4           # shorter words (codes: HFS, kVp, Acc) are never mended nor made
    # Words at or above this frequency in running text are in the list (1e-7: ~90,000 English
    # words, Aileen and Hamish included, Raigmore not).
    list_frequency: float = 1e-7
    # The prior of a reading that is not in the list: ten times rarer than the list's rarest.
    unknown_frequency: float = 1e-8
    # A reading that is no listed word is also weighed against listed words two edits away
    # when one of the edits puts in a letter the recogniser gave at least this probability
    # (tempered) at that letter's step: its close second choice (`MACOONALO`, whose two Os had
    # D second).
    runner_up: float = 0.01


LEXICON = LexiconParams()

# After a DICOM name's caret (FAMILY^GIVEN) stands a given name: there a name of the known
# given names (pii/given_names.py) is as likely as any other of them, 1 in len(GIVEN_NAMES),
# a far likelier word than its frequency in running text makes it (`FRASER^LAIN`: `lain` is
# an English word, `IAIN` the name); readings of three letters are weighed there too
# (`DOE^AIN`), against those names only.
GIVEN_NAME_PRIOR = -math.log(len(GIVEN_NAMES))
NAME_MIN_LETTERS = 3

# Glyph shapes a recogniser merges or splits, besides single-letter edits.
SHAPE_SWAPS = (("rn", "m"), ("in", "m"), ("nn", "m"), ("cl", "d"), ("al", "d"), ("vv", "w"), ("li", "h"),
               ("ii", "u"), ("ri", "n"))
_LETTER_RUN = re.compile(r"[A-Za-z]+")
# Digits and marks a recogniser reads in place of a letter of a word ('5TEWART', 'Campbel1',
# 'DOE^|ANE', 'In/irmary'), each with the letters it stands for.
LETTER_SHAPES = {"0": "o", "1": "il", "5": "s", "8": "b", "|": "ilj", "/": "fijlt"}
# A run of letters, digits, '|' and '/' (a word with its look-alikes, or a code).
_WORD_OR_CODE = re.compile(r"[A-Za-z0-9|/]+")


# 64-bit FNV-1a (Fowler-Noll-Vo), over a word's code points.
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


def word_keys(words: list[str]) -> np.ndarray:
    """A stable 64-bit key (int64) of each word: the same in every process, unlike hash(),
    and computed for all the words at once, a column of characters at a time. A word's key
    depends on its own characters only, not on the longest word beside it (the padding past
    its end is skipped). 90,000 words: 0.03 s, against 0.11 s for a blake2b digest each; the
    ~500 one-edit candidates of a word: 0.15 ms against 0.6 ms (4 December 2026)."""
    if not words:
        return np.empty(0, np.int64)
    text = np.array(words, dtype=str)
    codes = text.view(np.uint32).reshape(len(words), -1)   # code points, zero past each end
    lengths = np.char.str_len(text)
    keys = np.full(len(words), _FNV_OFFSET, np.uint64)
    for column in range(codes.shape[1]):
        keys = np.where(column < lengths, (keys ^ codes[:, column]) * _FNV_PRIME, keys)
    return keys.view(np.int64)


@dataclass(frozen=True, eq=False)
class Lexicon:
    """English words (lower case, letters only) and their frequency's natural logarithm, as
    two arrays: the words' sorted 64-bit keys and their log frequencies (~1 MB for 90,000
    words, against ~11 MB as a dict of strings)."""

    keys: np.ndarray               # int64, sorted
    log_frequencies: np.ndarray    # float64, in the keys' order
    unknown: float                 # log frequency given to a word not in the list

    @classmethod
    def of(cls, words: dict[str, float], unknown: float) -> Lexicon:
        keys = word_keys(list(words))
        order = np.argsort(keys)
        values = np.fromiter(words.values(), np.float64, len(words))
        return cls(keys[order], values[order], unknown)

    def priors(self, words: list[str]) -> np.ndarray:
        """Each word's log frequency; NaN for a word not in the list."""
        if not words or not self.keys.size:
            return np.full(len(words), np.nan)
        keys = word_keys(words)
        at = np.minimum(np.searchsorted(self.keys, keys), self.keys.size - 1)
        return np.where(self.keys[at] == keys, self.log_frequencies[at], np.nan)

    def prior(self, word: str) -> float | None:
        value = float(self.priors([word])[0])
        return None if math.isnan(value) else value

    def __contains__(self, word: str) -> bool:
        return self.prior(word) is not None

    def __len__(self) -> int:
        return int(self.keys.size)


def read_word_list(path: str, min_frequency: float) -> dict[str, float]:
    """The words of a wordfreq cBpack file at or above min_frequency. The file is a gzipped
    msgpack array: a header, then one list of words per centibel of frequency (list i holds
    the words at 10 ** (-i / 100)); reading stops at the cut-off, so the rarer words (two
    thirds of the file) never become Python strings."""
    import msgpack

    last = int(math.floor(-100 * math.log10(min_frequency)))
    words: dict[str, float] = {}
    with gzip.open(path, "rb") as stream:
        unpacker = msgpack.Unpacker(stream, raw=False)
        count = unpacker.read_array_header()
        header = unpacker.unpack()
        if not isinstance(header, dict) or header.get("format") != "cB":
            raise EngineError(f"{path} is not a wordfreq word list (header {header!r})")
        for centibels in range(min(count - 1, last + 1)):
            log_frequency = -centibels / 100 * math.log(10)
            for word in unpacker.unpack():
                if word.isascii() and word.isalpha():
                    words[word] = log_frequency
    return words


# wordfreq's English lists, best first, inside its package: found by path, since importing
# wordfreq itself loads its tokenisers (regex, ftfy, langcodes: ~11 MB) that are not used.
WORD_LISTS = ("data/large_en.msgpack.gz", "data/small_en.msgpack.gz")


def word_list_path() -> Path:
    """The English word list of the installed wordfreq package."""
    spec = importlib.util.find_spec("wordfreq")
    if spec is None or not spec.submodule_search_locations:
        raise EngineError(f"the word list for mending OCR readings is missing (no wordfreq package); "
                          f"install it with: {INSTALL} (or set processing.lexicon: false)")
    for folder in spec.submodule_search_locations:
        for name in WORD_LISTS:
            if (Path(folder) / name).is_file():
                return Path(folder) / name
    raise EngineError(f"wordfreq has no English list in {list(spec.submodule_search_locations)}; "
                      f"reinstall it with: {INSTALL}")


@lru_cache(maxsize=2)
def load_lexicon(params: LexiconParams = LEXICON) -> Lexicon:
    """wordfreq's `best` English list (loaded once per process, ~0.1 s, ~1 MB)."""
    return Lexicon.of(read_word_list(str(word_list_path()), params.list_frequency),
                      math.log(params.unknown_frequency))


def candidates(word: str) -> set[str]:
    """Lower-case strings one edit from `word` (lower case): a letter changed, dropped or
    added, or a merged/split glyph shape (SHAPE_SWAPS, both ways)."""
    letters = string.ascii_lowercase
    out = set()
    for i in range(len(word) + 1):
        head, tail = word[:i], word[i:]
        if tail:
            out.add(head + tail[1:])
            out.update(head + c + tail[1:] for c in letters)
        out.update(head + c + tail for c in letters)
    for a, b in SHAPE_SWAPS + tuple((b, a) for a, b in SHAPE_SWAPS):
        start = word.find(a)
        while start >= 0:
            out.add(word[:start] + b + word[start + len(a):])
            start = word.find(a, start + 1)
    out.discard(word)
    return out


def runner_up_readings(word: str, char_steps: list[int], probs: np.ndarray, index: dict[str, int],
                       least: float) -> set[str]:
    """The word (lower case) with one letter replaced by another letter that the recogniser
    gave at least `least` at that letter's step (either case)."""
    letters = [c for c in string.ascii_lowercase if c in index or c.upper() in index]
    lower = np.array([index.get(c, index.get(c.upper())) for c in letters])
    upper = np.array([index.get(c.upper(), index.get(c)) for c in letters])
    rows = probs[char_steps]
    rated = np.maximum(rows[:, lower], rows[:, upper]) >= least
    base = word.lower()
    out = set()
    for i, k in zip(*np.nonzero(rated)):
        if letters[k] != base[i]:
            out.add(base[:i] + letters[k] + base[i + 1:])
    return out


def ctc_log_likelihood(probs: np.ndarray, labels: list[int]) -> float:
    """log P(labels | probs): the CTC forward algorithm over time steps x classes (class 0 is
    the blank), summing every alignment of the labels to the steps."""
    return float(ctc_log_likelihoods(probs, np.asarray([labels], dtype=np.intp))[0])


def ctc_log_likelihoods(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """ctc_log_likelihood of each row of labels (readings x characters, all one length),
    run side by side: one pass over the time steps for the lot."""
    readings, length = labels.shape
    extended = np.zeros((readings, 2 * length + 1), dtype=np.intp)
    extended[:, 1::2] = labels
    logp = np.log(np.maximum(probs[:, extended], 1e-30))          # steps x readings x states
    # A label may be reached from two states back when it is not a blank nor a repeat.
    skip = np.zeros(extended.shape, bool)
    skip[:, 2:] = (extended[:, 2:] != 0) & (extended[:, 2:] != extended[:, :-2])
    alpha = np.full(extended.shape, -np.inf)
    alpha[:, :2] = logp[0, :, :2]
    one_back = np.full(extended.shape, -np.inf)
    two_back = np.full(extended.shape, -np.inf)
    for t in range(1, probs.shape[0]):
        one_back[:, 1:] = alpha[:, :-1]
        two_back[:, 2:] = np.where(skip[:, 2:], alpha[:, :-2], -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, one_back), two_back) + logp[t]
    if length == 0:
        return alpha[:, -1]
    return np.logaddexp(alpha[:, -1], alpha[:, -2])


def likelihoods(window: np.ndarray, index: dict[str, int], readings: list[str]) -> list[float]:
    """ctc_log_likelihood of each reading (every character in index) over the window, the
    readings of one length weighed side by side."""
    out = [0.0] * len(readings)
    by_length: dict[int, list[int]] = {}
    for i, reading in enumerate(readings):
        by_length.setdefault(len(reading), []).append(i)
    for chosen in by_length.values():
        labels = np.array([[index[c] for c in readings[i]] for i in chosen], dtype=np.intp)
        for i, value in zip(chosen, ctc_log_likelihoods(window, labels.reshape(len(chosen), -1))):
            out[i] = float(value)
    return out


def calibrated(probs: np.ndarray, temperature: float) -> np.ndarray:
    """The recogniser's output with its confidence tempered: each step's distribution
    raised to 1/temperature and normalised again (temperature scaling); the likeliest
    character at each step stays the same."""
    if temperature == 1.0:
        return probs
    logp = np.log(np.maximum(probs, 1e-30)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    out = np.exp(logp)
    return out / out.sum(axis=1, keepdims=True)


def in_case_of(candidate: str, reading: str) -> str | None:
    """The candidate written as the reading was (CAPITALS, lower, Title); None for mixed."""
    if reading.isupper():
        return candidate.upper()
    if reading.islower():
        return candidate
    if reading[0].isupper() and reading[1:].islower():
        return candidate.capitalize()
    return None


def word_steps(argmax: np.ndarray, steps: list[int], start: int, end: int) -> tuple[int, int]:
    """The time steps that belong to characters start..end-1 of a greedy reading: from just
    after the previous character's last step to just before the next character's first."""
    first = 0
    if start > 0:
        first = steps[start - 1]
        while first + 1 < argmax.size and argmax[first + 1] == argmax[steps[start - 1]]:
            first += 1
        first += 1
    last = steps[end] if end < len(steps) else argmax.size
    return first, last


def _likeliest(window: np.ndarray, index: dict[str, int], own: float,
               readings: list[tuple[str, float]]) -> str | None:
    """The reading (as written, log prior) whose CTC likelihood over the window plus prior
    is highest and beats `own` (the word as read, scored so); None when none does. A reading
    with a character the recogniser lacks is not weighed."""
    weighed = [(written, prior) for written, prior in readings if all(c in index for c in written)]
    best, best_score = None, own
    for (written, prior), likelihood in zip(weighed, likelihoods(window, index, [w for w, _ in weighed])):
        if likelihood + prior > best_score:
            best, best_score = written, likelihood + prior
    return best


def _written_as(letters: str, like: str, at: int) -> str:
    """letters (lower case) written in the case of `like`, a word whose character at `at`
    is a look-alike: CAPITALS, lower case, or Title (a look-alike first makes Title)."""
    rest = like[:at] + like[at + 1:]
    if rest.isupper():
        return letters.upper()
    if rest.islower():
        return letters.capitalize() if at == 0 else letters
    if rest[0].isupper() and rest[1:].islower():
        return letters.capitalize()
    return letters


def _letters_for_lookalikes(text: str, steps: list[int], probs: np.ndarray, index: dict[str, int],
                            lexicon: Lexicon, params: LexiconParams) -> tuple[str, list[int]]:
    """Each word of letters with one digit, '|' or '/' among them (no other digit) read as the
    listed word with a letter in its place (LETTER_SHAPES), where that scores better: the
    same noisy-channel score as mend_words', the reading as is having the unknown prior."""
    argmax = probs.argmax(axis=1)
    changes = []
    for match in _WORD_OR_CODE.finditer(text):
        word, (start, end) = match[0], match.span()
        odd = [i for i, c in enumerate(word) if not c.isalpha()]
        given = start > 0 and text[start - 1] == "^"
        if (len(odd) != 1 or word[odd[0]] not in LETTER_SHAPES
                or len(word) < (NAME_MIN_LETTERS if given else params.min_letters)):
            continue
        at = odd[0]
        first, last = word_steps(argmax, steps, start, end)
        window = probs[first:last]
        if window.shape[0] < len(word):
            continue
        options = [word[:at].lower() + letter + word[at + 1:].lower() for letter in LETTER_SHAPES[word[at]]]
        priors = lexicon.priors(options)
        if given:
            priors = np.where([c in GIVEN_NAMES for c in options], np.fmax(priors, GIVEN_NAME_PRIOR), priors)
        best = _likeliest(window, index, ctc_log_likelihood(window, [index[c] for c in word]) + lexicon.unknown,
                          [(_written_as(c, word, at), p) for c, p in zip(options, priors) if not math.isnan(p)])
        if best is not None:
            changes.append((start, end, best))
    return replace_spans(text, steps, changes)


def mend_words(text: str, steps: list[int], probs: np.ndarray, index: dict[str, int],
               lexicon: Lexicon, params: LexiconParams = LEXICON) -> tuple[str, list[int]]:
    """The reading with each word replaced by a likelier English word one edit away (two, for
    a reading that is no listed word, when one edit is the recogniser's close second choice:
    LexiconParams.runner_up), and each character's time step (a replaced word's characters
    spread evenly over the old word's).

    text and steps are the greedy CTC reading of one line and each character's time step;
    probs the recogniser's output for the line (steps x classes); index each character's
    class."""
    if len(steps) != len(text):
        return text, steps
    text, steps = _letters_for_lookalikes(text, steps, probs, index, lexicon, params)
    argmax = probs.argmax(axis=1)
    changes = []
    for match in _LETTER_RUN.finditer(text):
        start, end = match.span()
        word = match[0]
        given = start > 0 and text[start - 1] == "^"       # a DICOM name's given name
        if (len(word) < (NAME_MIN_LETTERS if given else params.min_letters)
                or (start > 0 and text[start - 1].isdigit())
                or (end < len(text) and text[end].isdigit())):
            continue
        first, last = word_steps(argmax, steps, start, end)
        window = probs[first:last]
        if window.shape[0] < len(word):
            continue
        own = lexicon.prior(word.lower())
        near = candidates(word.lower())
        if own is None and not (given and word.lower() in GIVEN_NAMES):
            # No word as read: also two edits away, one a letter the recogniser rated close.
            for reading in runner_up_readings(word, steps[start:end], probs, index, params.runner_up):
                near.add(reading)
                near |= candidates(reading)
            near.discard(word.lower())
        own = lexicon.unknown if own is None else own
        if given and word.lower() in GIVEN_NAMES:
            own = max(own, GIVEN_NAME_PRIOR)
        nearby = sorted(c for c in near
                        if len(c) >= params.min_letters and (len(word) >= params.min_letters
                                                             or c in GIVEN_NAMES))
        priors = lexicon.priors(nearby)
        if given:
            priors = np.where([c in GIVEN_NAMES for c in nearby],
                              np.fmax(priors, GIVEN_NAME_PRIOR), priors)
        written = [(in_case_of(c, word), p) for c, p in zip(nearby, priors) if not math.isnan(p)]
        best = _likeliest(window, index, ctc_log_likelihood(window, [index[c] for c in word]) + own,
                          [(w, p) for w, p in written if w is not None])
        if best is not None:
            changes.append((start, end, best))
    return replace_spans(text, steps, changes)


def read_as_one_word(text: str, steps: list[int], probs: np.ndarray, index: dict[str, int],
                     lexicon: Lexicon, at: int, params: LexiconParams = LEXICON) -> bool:
    """Whether the word prior (mend_words) reads the run of letters holding text[at] as one
    listed word. A caret put back from the ink (line_text.carets_from_ink) splits such a
    run into a DICOM name; where the run reads as an English word (`ARDOMIEN`, ABDOMEN in an
    8 px italic whose D's top stood apart), the mark was part of a letter."""
    run = next((m for m in _LETTER_RUN.finditer(text) if m.start() <= at < m.end()), None)
    if run is None:
        return False
    first, last = steps[run.start()], steps[run.end() - 1]
    mended, mended_steps = mend_words(text, steps, probs, index, lexicon, params)
    words = [m[0] for m in _LETTER_RUN.finditer(mended)
             if any(first <= step <= last for step in mended_steps[m.start():m.end()])]
    return len(words) == 1 and len(words[0]) >= params.min_letters and words[0].lower() in lexicon


def replace_spans(text: str, steps: list[int], changes: list[tuple[int, int, str]]) -> tuple[str, list[int]]:
    """text with each (start, end, new) span replaced, and the time steps of its characters:
    a new span's spread evenly over the old span's first to last step."""
    if not changes:
        return text, steps
    steps = list(steps)
    for start, end, new in sorted(changes, reverse=True):
        steps[start:end] = np.linspace(steps[start], steps[end - 1], len(new)).round().astype(int).tolist()
        text = text[:start] + new + text[end:]
    return text, steps
