"""Decide which OCR boxes of one image, and whether the image's text as a whole, hold PII.

NER runs once on the whole text (text.whole_text: boxes joined by single spaces), so names
split across boxes ("DOE^" + "JOHN", "John" + "Smith") are seen as one, and each entity or
rule hit maps back to the boxes its span overlaps (text.box_spans). A box is flagged when a
hit overlaps it; the image is flagged when any hit exists.

What counts (see pii/rules.py for the rules themselves):
- NER PERSON, ORG or LOC entities that survive the guard below;
- the instance's own identifying header values (names, IDs, dates, institution);
- any plausible date, long digit runs, NHS / CHI numbers, dotted UIDs, DICOM-style names,
  titled names ("Dr Lee"), common given names, street addresses and UK postcodes.
NER DATE entities are not used: the small model calls "2000" (a TI) or any 8-digit number a
DATE; the date rule checks day, month and year instead.

The NER guard, because the small model tags lone capitalised words (ABDOMEN -> ORG,
SAG T1 -> PERSON, US -> GPE) and OCR garbage: an entity counts only if it has a
meaningful token (>= 3 letters, mostly letters, a vowel, written like a name: Title or
CAPITALS, no five consonants or three equal letters in a row, not allow-listed or a label);
an entity of a single word does not count: the small model tags lone anatomy and protocol
words (Trachea -> PERSON, Meniscus -> ORG, BRAIN -> ORG, "Towne" view -> LOC) far more often
than an image shows a lone name, and lone names are still caught by the other rules (this
patient's header values, given names, "Dr Lee", DOE^JOHN); an entity of more words needs
a meaningful token of >= 4 letters or two meaningful tokens, and no more unexplained
scraps ("il", "lea", "AN") than meaningful tokens. These came from tesseract's readings of
real images without text (pydicom's MR2, OT-PAL-8-face test files), which the
small model turned into "Pod Pe" (ORG) and "al il t r lea Thal AN" (PERSON).
"""
from __future__ import annotations

import re

from ..model import Entity, InstanceInfo, TextBox, Verdict
from ..ocr.confusions import TOKEN_CARETS
from ..text import box_spans, whole_text
from . import NerEngine
from .rules import RULES, Hit, RuleParams, find_all
from .safe_text import LABEL_WORDS, SAFE_WORDS, is_safe_token, strip_punct

NER_LABELS = frozenset({"PERSON", "ORG", "LOC"})
# The reason given for a line of text seen but not read (TextBox.unread): no text to quote.
UNREAD = "unread-text"
# Tokens are split at white space and at the '^' look-alikes of DICOM names (ocr/confusions.py).
_TOKEN = re.compile(rf"[^\s{re.escape(TOKEN_CARETS)}]+")
_VOWELS = frozenset("aeiouy")
# How names are written on images: Title, CAPITALS, or with a prefix/hyphen/apostrophe
# (McDonald, MacLeod, O'Brien, Smith-Jones). Lower-case and mixed-case tokens are OCR noise.
_NAME_SHAPE = re.compile(
    r"(?:(?:Mc|Mac|O'|D'|Di|De|Da|La|Le|Van|Von|St)?[A-Z][a-z'-]*[a-z]|[A-Z][A-Z'-]*[A-Z])"
    r"(?:-(?:[A-Z][a-z]+|[A-Z]+))?")
# Five consonants in a row, or one letter three times: not a word in any Latin script name.
_NOISE = re.compile(r"[bcdfghjklmnpqrstvwxz]{5}|([a-z])\1\1")


def _letters(token: str) -> int:
    return sum(ch.isalpha() for ch in token)


def is_meaningful_token(token: str) -> bool:
    """A token that could be (part of) a name: not safe, not short, not OCR noise."""
    bare = strip_punct(token)
    letters = _letters(bare)
    if letters < 3 or letters * 10 < len(bare) * 7:          # short, or under 70% letters
        return False
    low = bare.lower()
    if low in SAFE_WORDS or low in LABEL_WORDS or is_safe_token(bare):
        return False
    if not _VOWELS.intersection(low) or len(set(low)) == 1:   # "Wrkt", "lll"
        return False
    word = re.sub(r"[^A-Za-z'-]", "", bare)
    if not _NAME_SHAPE.fullmatch(word):                        # "zhugjy", "aNd", "IIl"
        return False
    return not _NOISE.search(low)                              # "mkrtch", "eeez"


def _is_filler(token: str) -> bool:
    low = token.lower()
    return low in SAFE_WORDS or low in LABEL_WORDS or is_safe_token(token)


def entity_counts(text: str) -> bool:
    """Whether a PERSON/ORG/LOC entity's text is a plausible name (the guard above)."""
    tokens = [strip_punct(t) for t in _TOKEN.findall(text)]
    alphabetic = [t for t in tokens if _letters(t) >= 2]
    meaningful = [t for t in tokens if is_meaningful_token(t)]
    if not meaningful:
        return False
    if len(alphabetic) == 1:          # "Trachea" PERSON, "Meniscus" ORG, "BRAIN" ORG...
        return False
    # "Pod Pe", "Sey 4 H He Ha": one three-letter word among scraps is OCR noise; "Tom Cox" is not.
    if len(meaningful) == 1 and _letters(meaningful[0]) < 4:
        return False
    # "al il t r lea Thal AN": more unexplained scraps than name-like words is OCR noise.
    noise = [t for t in alphabetic if not is_meaningful_token(t) and not _is_filler(t)]
    return len(noise) <= len(meaningful)


def _entity_hits(text: str, entities: list[Entity]) -> list[Hit]:
    hits = []
    for entity in entities:
        if entity.label not in NER_LABELS:
            continue
        surface = text[entity.start:entity.end]
        if entity_counts(surface):
            hits.append(Hit(entity.start, entity.end, f"ner:{entity.label}", surface))
    return hits


def _box_flagged(text: str, hit: Hit, span: tuple[int, int]) -> bool:
    """Does this hit make this box sensitive? The overlap must hold something of substance:
    for a NER hit a meaningful token (so "John Smith DOB" does not flag the "DOB" box), for
    a rule hit any letter or digit."""
    start, end = max(hit.start, span[0]), min(hit.end, span[1])
    if start >= end:
        return False
    part = text[start:end]
    if hit.rule.startswith("ner:"):
        return any(is_meaningful_token(t) for t in _TOKEN.findall(part))
    return any(ch.isalnum() for ch in part)


def judge(boxes: list[TextBox], info: InstanceInfo, ner: NerEngine | None,
          rules: RuleParams = RULES) -> Verdict:
    """Per-box flags, the whole-image flag, and the reasons, for one image's OCR boxes.
    A box of text seen but not read (TextBox.unread) is flagged, and so is its image."""
    text = whole_text(boxes)
    hits = []
    if text.strip():
        hits = find_all(text, info.identifiers, rules)
        if ner is not None:
            hits.extend(_entity_hits(text, ner.entities(text)))
    spans = box_spans(boxes)
    ordered = sorted(hits, key=lambda h: (h.start, h.rule))
    box_reasons = tuple((UNREAD,) if box.unread else
                        tuple(dict.fromkeys(hit.reason for hit in ordered if _box_flagged(text, hit, span)))
                        for box, span in zip(boxes, spans))
    flags = tuple(bool(why) for why in box_reasons)
    reasons = tuple(dict.fromkeys([hit.reason for hit in ordered] + [UNREAD for box in boxes if box.unread]))
    return Verdict(flags, bool(hits) or any(flags), reasons, box_reasons if any(flags) else ())
