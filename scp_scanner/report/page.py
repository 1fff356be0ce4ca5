"""The review page: one self-contained HTML file (pictures as data: URIs, inline style and a
few lines of plain script, a Content-Security-Policy that forbids any network access).

Every text that comes from the CSV or a DICOM header is HTML-escaped. Boxes are drawn as an
SVG layer over each thumbnail, in the image's own pixel coordinates (viewBox), so they can be
turned off to see the text under them.
"""
from __future__ import annotations

import base64
from html import escape

from .build import Card, Report

CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
       "script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#111;background:#fafafa}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}
table{border-collapse:collapse;margin:.3em 1.5em .8em 0;display:inline-table;vertical-align:top}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}td.n{text-align:right}
.heat{display:inline-block;margin:0 1em 1em 0;text-align:center;font-size:12px}
.heat img{display:block;border:1px solid #999;image-rendering:pixelated}
#controls{position:sticky;top:0;background:#eee;padding:.5em;border:1px solid #ccc;z-index:2}
#controls label{margin-right:1em}
#cards{display:flex;flex-wrap:wrap;gap:1em;margin-top:1em}
.card{background:#fff;border:1px solid #bbb;border-radius:4px;padding:.6em;width:380px}
.card h3{font-size:12px;word-break:break-all;margin:.2em 0}
.thumb{position:relative;margin:0;line-height:0}
.thumb img{width:100%;height:auto;display:block}
.thumb svg{position:absolute;left:0;top:0;width:100%;height:100%}
rect.pii{fill:none;stroke:#e00;stroke-width:2px;vector-effect:non-scaling-stroke}
rect.safe{fill:none;stroke:#0a0;stroke-width:1px;vector-effect:non-scaling-stroke}
body.boxes-off .thumb svg{display:none}
pre{white-space:pre-wrap;word-break:break-word;background:#f4f4f4;padding:.3em;margin:.3em 0}
.reasons{color:#900;margin:.2em 0;padding-left:1.2em}
.nothumb{color:#666;font-style:italic}
.meta{color:#444;font-size:12px}
[hidden]{display:none!important}
.key span{display:inline-block;width:1em;height:.7em;margin:0 .3em 0 1em}
"""

SCRIPT = """
(function () {
  var status = document.getElementById('f-status'), modality = document.getElementById('f-modality'),
      model = document.getElementById('f-model'), boxes = document.getElementById('f-boxes'),
      shown = document.getElementById('shown');
  function apply() {
    var n = 0;
    document.querySelectorAll('.item').forEach(function (el) {
      var ok = (status.value === 'all' || el.dataset.flagged === (status.value === 'flagged' ? '1' : '0'))
        && (modality.value === '' || el.dataset.modality === modality.value)
        && (model.value === '' || el.dataset.model === model.value);
      el.hidden = !ok;
      if (ok) { n += 1; }
    });
    document.querySelectorAll('.group').forEach(function (g) {
      g.hidden = g.querySelector('.item:not([hidden])') === null;
    });
    shown.textContent = n + ' image(s) shown';
  }
  [status, modality, model].forEach(function (el) { el.addEventListener('change', apply); });
  boxes.addEventListener('change', function () {
    document.body.classList.toggle('boxes-off', !boxes.checked);
  });
  apply();
})();
"""


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _count_table(title: str, rows) -> str:
    body = "".join(f"<tr><td>{escape(k)}</td><td class=n>{n}</td><td class=n>{f}</td></tr>"
                   for k, n, f in rows)
    return (f"<table><caption>{escape(title)}</caption><tr><th>{escape(title)}</th>"
            f"<th>images</th><th>flagged</th></tr>{body}</table>")


def _where(card: Card) -> str:
    f = card.finding
    parts = []
    if f.frame >= 0:
        parts.append(f"frame {f.frame}")
    if f.overlay >= 0:
        parts.append(f"overlay {f.overlay}")
    return ", ".join(parts) or "image"


def _attributes(card: Card) -> str:
    return (f'data-flagged="{int(card.finding.flagged)}" data-modality="{escape(card.modality)}" '
            f'data-model="{escape(card.model)}"')


def _svg(card: Card) -> str:
    if not card.width or not card.height:
        return ""
    rects = []
    for box in card.finding.boxes:
        kind = "pii" if box.sensitive == 1 else "safe"
        title = escape(box.text + (" — " + "; ".join(box.reasons) if box.reasons else ""))
        rects.append(f'<rect class="{kind}" x="{box.left}" y="{box.top}" '
                     f'width="{max(1, box.right - box.left)}" height="{max(1, box.bottom - box.top)}">'
                     f"<title>{title}</title></rect>")
    return (f'<svg class="boxes" viewBox="0 0 {card.width} {card.height}" '
            f'preserveAspectRatio="none" aria-hidden="true">{"".join(rects)}</svg>')


def _card(card: Card) -> str:
    f = card.finding
    if card.thumbnail is not None:
        picture = (f'<figure class="thumb"><img alt="{escape(_where(card))}" '
                   f'src="{_data_uri(card.thumbnail)}">{_svg(card)}</figure>')
    else:
        picture = '<p class="nothumb">no thumbnail (over the per-model cap, or the file was not found)</p>'
    reasons = "".join(f"<li>{escape(r)}</li>" for r in f.reasons)
    if not reasons:
        reasons = "".join(f"<li>{escape(r)}</li>" for r in
                          dict.fromkeys(r for b in f.boxes for r in b.reasons))
    # A flagged box with no text is text seen but not read (rapidocr's `unread-text`).
    box_texts = "".join(f"<li>{escape(b.text)}</li>" if b.text else "<li><em>text seen but not read</em></li>"
                        for b in f.boxes if b.sensitive == 1)
    return (f'<article class="card item" {_attributes(card)}>{picture}'
            f"<h3>{escape(card.path)}</h3>"
            f'<p class="meta">{escape(_where(card))} · {escape(card.modality)} · {escape(card.model)}'
            f" · {escape(f.imagetype)} · OCR {escape(f.ocr_engine or '-')}, NER {escape(f.ner_engine or '-')}</p>"
            f"<pre>{escape(f.text)}</pre>"
            + (f'<p>identifying boxes:</p><ul class="texts">{box_texts}</ul>' if box_texts else "")
            + (f'<p>reasons:</p><ul class="reasons">{reasons}</ul>' if reasons else
               '<p class="meta">no reasons column in the CSV (scan with --reasons)</p>')
            + "</article>")


def _other(card: Card) -> str:
    f = card.finding
    return (f'<li class="item" {_attributes(card)}>{escape(card.path)} ({escape(_where(card))}, '
            f"{escape(card.modality)}, {escape(card.model)}): <code>{escape(f.text)}</code></li>")


def _options(element: str, label: str, values) -> str:
    options = "".join(f'<option value="{escape(v)}">{escape(v)}</option>' for v in values)
    return (f'<label>{label} <select id="{element}"><option value="">all</option>'
            f"{options}</select></label>")


def render(report: Report) -> str:
    """The whole page as one string."""
    modalities = [k for k, _, _ in report.by_modality]
    models = [k for k, _, _ in report.by_model]
    summary = (
        "<table><tr><th>CSV files</th><td>" + "<br>".join(escape(s) for s in report.sources)
        + f"</td></tr><tr><th>DICOM files named</th><td class=n>{report.files}</td></tr>"
        f"<tr><th>images</th><td class=n>{report.images}</td></tr>"
        f"<tr><th>images flagged</th><td class=n>{report.flagged}</td></tr>"
        f"<tr><th>failures (file not found or unreadable)</th><td class=n>{len(report.missing)}</td></tr></table>"
        + _count_table("modality", report.by_modality) + _count_table("manufacturer and model", report.by_model)
        + _count_table("engines", report.by_engine))
    heat = "".join(
        f'<div class="heat"><img alt="heat map {escape(h.model)}" width="144" height="144" '
        f'src="{_data_uri(h.png)}">{escape(h.model)}<br>{h.boxes} box(es), {h.images} image(s)</div>'
        for h in report.heat) or "<p>No identifying boxes (scan with --rects to get them).</p>"
    failures = "".join(f"<li>{escape(name)}: {escape(why)}</li>" for name, why in report.missing)
    controls = (
        '<div id="controls"><label>show <select id="f-status"><option value="all">all</option>'
        '<option value="flagged" selected>flagged</option><option value="unflagged">not flagged</option>'
        "</select></label>" + _options("f-modality", "modality", modalities)
        + _options("f-model", "model", models)
        + '<label><input type="checkbox" id="f-boxes" checked> boxes</label>'
        '<span class="key"><span style="background:#e00"></span>identifying'
        '<span style="background:#0a0"></span>not identifying</span> '
        '<strong id="shown"></strong></div>')
    cards = "".join(_card(c) for c in report.cards)
    others = "".join(_other(c) for c in report.others)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<link rel="icon" href="data:,">'
        "<title>scp-scanner review</title>"
        f"<style>{STYLE}</style></head><body>"
        "<h1>scp-scanner review: burned-in identifying text</h1>"
        "<p><strong>This page holds identifying text and images: keep it where the DICOM files "
        "may be kept.</strong></p>"
        f'<section id="summary"><h2>Summary</h2>{summary}'
        f"<h2>Where identifying text sits, per model (all flagged boxes, image scaled to a square)</h2>{heat}</section>"
        f"{controls}"
        f'<section class="group"><h2>Flagged images ({report.flagged}; thumbnails for the first '
        f'{report.max_thumbnails} per model)</h2><div id="cards">{cards}</div></section>'
        f'<section class="group"><h2>Images not flagged ({len(report.others)})</h2>'
        f'<ul id="others">{others}</ul></section>'
        + (f'<section><h2>Failures</h2><ul id="failures">{failures}</ul></section>' if failures else "")
        + f"<script>{SCRIPT}</script></body></html>")
