"""`scp-scanner report`: the real CLI over a real scan (tesseract + spaCy) of synthetic files,
and the page loaded in Debian's headless Chromium (selenium + chromedriver, no network)."""
from __future__ import annotations

import base64
import csv
import io
import os
import re
import stat
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

import review_corpus
from conftest import on_terminal, run_cli

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    folder, truths, out = review_corpus.made(tmp_path_factory, "report")
    rows = review_corpus.scan(folder, out / "rows.csv", "--reasons")
    return truths, rows, out


def flagged_images(rows: list[dict]) -> set[tuple[str, str, str]]:
    return {(r["filename"], r["frame"], r["overlay"]) for r in rows if r["is_sensitive"] == "1"}


@pytest.fixture(scope="module")
def page(scanned):
    truths, rows, out = scanned
    html = out / "report.html"
    result = run_cli("report", str(out / "rows.csv"), "-o", str(html), "--max-thumbnails", "2")
    assert result.returncode == 0, result.stderr
    return html, result


def test_page_is_private_self_contained_and_has_a_card_per_flagged_image(scanned, page):
    truths, rows, _ = scanned
    html, result = page
    assert stat.S_IMODE(os.stat(html).st_mode) == 0o600
    text = html.read_text()
    # No network: no URL other than data: in src/href, and a policy that forbids fetching.
    assert not re.search(r'(?:src|href)="(?!data:)', text)
    assert "http://" not in text and "https://" not in text
    assert "default-src 'none'" in text
    assert text.count('<article class="card item"') == len(flagged_images(rows))
    # Every flagged image's OCR text and path is on the page (HTML-escaped).
    for row in rows:
        if row["is_sensitive"] == "1" and row["left"] == "-1":
            assert row["filename"] in text
    assert f"{len(flagged_images(rows))} flagged" in result.stderr


def test_thumbnails_are_capped_per_model_and_show_the_image(scanned, page):
    truths, rows, _ = scanned
    text = page[0].read_text()
    thumbs = re.findall(r'<article class="card item" [^>]*data-model="([^"]*)"[^>]*>'
                        r'<figure class="thumb"><img alt="[^"]*" src="data:image/png;base64,([^"]+)"', text)
    per_model = Counter(model for model, _ in thumbs)
    flagged_models = Counter(re.findall(r'<article class="card item" [^>]*data-model="([^"]*)"', text))
    for model, n in flagged_models.items():
        assert per_model[model] == min(2, n), (model, per_model, flagged_models)
    for _, data in thumbs:
        picture = PILImage.open(io.BytesIO(base64.b64decode(data)))
        assert picture.format == "PNG" and max(picture.size) <= 360
        assert len(np.unique(np.asarray(picture.convert("L")))) > 2      # an image, not a blank


def test_boxes_are_drawn_where_the_words_are(scanned, page):
    truths, rows, _ = scanned
    text = page[0].read_text()
    by_path = {t.path: t for t in truths}
    # The CT card (one image 512x512): its identifying rects are on the SVG layer in image
    # coordinates, and each drawn PII word of the truth lies inside some flagged rect.
    ct = next(t for t in truths if t.case == "ct_signed")
    card = re.search(r'<article class="card item"[^>]*>(?:(?!</article>).)*?' + re.escape(ct.path)
                     + r'.*?</article>', text, re.S)
    assert card, "card of the CT file"
    rects = [tuple(map(int, m)) for m in re.findall(
        r'<rect class="pii" x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"', card.group(0))]
    assert 'viewBox="0 0 512 512"' in card.group(0) and rects
    words = [w for w in by_path[ct.path].images[0].words if w.pii]
    found = [w for w in words if any(x <= (w.left + w.right) / 2 <= x + wd and y <= (w.top + w.bottom) / 2 <= y + h
                                     for x, y, wd, h in rects)]
    assert len(found) >= 0.8 * len(words), (len(found), len(words))


def test_missing_files_are_reported_and_the_rest_is_shown(scanned, tmp_path):
    _, rows, out = scanned
    csv_text = (out / "rows.csv").read_text()
    first = rows[0]["filename"]
    moved = csv_text.replace(first, str(tmp_path / "gone.dcm"))
    source = tmp_path / "rows.csv"
    source.write_text(moved)
    result = run_cli("report", str(source), "-o", str(tmp_path / "r.html"))
    assert result.returncode == 1
    assert f"{tmp_path / 'gone.dcm'}: not found" in result.stderr
    assert "failures (file not found or unreadable)</th><td class=n>1<" in (tmp_path / "r.html").read_text()


def test_a_foreign_csv_is_a_usage_error(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    result = run_cli("report", str(bad), "-o", str(tmp_path / "r.html"))
    assert result.returncode == 2 and "not scp-scanner rows" in result.stderr
    assert not (tmp_path / "r.html").exists()


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), "apt-get install chromium chromium-driver"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-proxy-server", "--proxy-server=127.0.0.1:9", "--disable-background-networking",
                 "--window-size=1300,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_page_in_headless_chromium(scanned, page, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    truths, rows, _ = scanned
    browser.get(page[0].as_uri())
    assert browser.title == "scp-scanner review"
    errors = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    cards = browser.find_elements(By.CSS_SELECTOR, "article.card")
    flagged = flagged_images(rows)
    assert len(cards) == len(flagged)
    visible = lambda: [c for c in browser.find_elements(By.CSS_SELECTOR, ".item") if c.is_displayed()]  # noqa: E731
    assert len(visible()) == len(flagged)                      # 'flagged' is the first view
    # Filter by modality: only the flagged CT images stay.
    modality_of = {t.path: t.modality for t in truths}
    ct_flagged = {k for k in flagged if modality_of[k[0]] == "CT"}
    assert 0 < len(ct_flagged) < len(flagged)
    Select(browser.find_element(By.ID, "f-modality")).select_by_value("CT")
    assert len(visible()) == len(ct_flagged)
    assert all(c.get_attribute("data-modality") == "CT" for c in visible())
    assert browser.find_element(By.ID, "shown").text == f"{len(ct_flagged)} image(s) shown"
    # Not flagged, any modality: no card, the unflagged list instead.
    Select(browser.find_element(By.ID, "f-modality")).select_by_value("")
    Select(browser.find_element(By.ID, "f-status")).select_by_value("unflagged")
    shown = visible()
    images = {(r["filename"], r["frame"], r["overlay"]) for r in rows}
    assert len(shown) == len(images - flagged) and all(c.tag_name == "li" for c in shown)
    # Boxes can be turned off to see the text under them.
    Select(browser.find_element(By.ID, "f-status")).select_by_value("flagged")
    layer = browser.find_element(By.CSS_SELECTOR, "article.card svg.boxes")
    assert layer.is_displayed()
    browser.find_element(By.ID, "f-boxes").click()
    assert not layer.is_displayed()
    assert [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")] == []


def test_progress_bar_on_a_terminal_only(scanned, tmp_path):
    """stderr on a real pseudo-terminal: tqdm draws its bar while the images are read; on a
    pipe (the other tests) stderr holds only the summary line."""
    _, _, out = scanned
    status, shown = on_terminal("report", str(out / "rows.csv"), "-o", str(tmp_path / "r.html"))
    assert status == 0
    assert b"reading images" in shown and b" files" in shown, shown
    piped = run_cli("report", str(out / "rows.csv"), "-o", str(tmp_path / "r2.html"))
    assert piped.returncode == 0 and "reading images" not in piped.stderr
    assert piped.stderr.count("\n") == 1


def test_text_from_the_csv_is_escaped(scanned, tmp_path):
    _, rows, out = scanned
    hostile = '<img src=x onerror="alert(1)">&'
    target = next(r for r in rows if r["is_sensitive"] == "1" and r["left"] == "-1")
    source = tmp_path / "rows.csv"
    with open(source, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "ocr_text": hostile} if r is target else r for r in rows)
    assert run_cli("report", str(source), "-o", str(tmp_path / "r.html")).returncode == 0
    text = (tmp_path / "r.html").read_text()
    assert hostile not in text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;" in text


def test_a_box_seen_but_not_read_is_listed_as_such(scanned, tmp_path):
    """A flagged rectangle row with no text (rapidocr's unread coloured text) is listed
    among the image's identifying boxes as text seen but not read, not as a blank."""
    _, rows, out = scanned
    target = next(r for r in rows if r["is_sensitive"] == "1" and r["left"] != "-1")
    source = tmp_path / "rows.csv"
    with open(source, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "ocr_text": ""} if r is target else r for r in rows)
    assert run_cli("report", str(source), "-o", str(tmp_path / "r.html")).returncode == 0
    text = (tmp_path / "r.html").read_text()
    assert "<li><em>text seen but not read</em></li>" in text
    assert "<li></li>" not in text
