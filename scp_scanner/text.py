"""How one image's boxes become one text (the whole-text row, and the text NER reads).

Boxes arrive in reading order from the OCR engine. The whole text joins them with single
spaces; `spans` says where each box's text sits inside it, so entities found in the whole text
map back to the boxes they overlap.
"""
from __future__ import annotations

from .model import TextBox

SEPARATOR = " "


def whole_text(boxes: list[TextBox]) -> str:
    """The boxes' texts joined; a box with no text (TextBox.unread) adds nothing."""
    return SEPARATOR.join(box.text for box in boxes if box.text)


def box_spans(boxes: list[TextBox]) -> list[tuple[int, int]]:
    """[start, end) of each box's text inside whole_text(boxes) (empty for a box with no text)."""
    spans, position = [], 0
    for box in boxes:
        spans.append((position, position + len(box.text)))
        if box.text:
            position += len(box.text) + len(SEPARATOR)
    return spans
