from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from html import unescape
from pathlib import Path

import headless_chromium as chromium
import pytest
from release_factory import XSS, Release

from sdl_tracker.cli.main import main
from sdl_tracker.exporters import EXPORTERS, html
from sdl_tracker.exporters.base import Report
from sdl_tracker.exporters.source import Source

EXPRESSIONS = {
    "rows": "document.querySelectorAll('#matrix tbody tr').length",
    "coloured": "Array.from(document.querySelectorAll('#matrix tbody tr'))"
    ".filter(r => getComputedStyle(r.cells[0]).borderLeftWidth === '6px').length",
    "statuses": "Array.from(document.querySelectorAll('#matrix tbody tr'))"
    ".map(r => r.dataset.requirement + '=' + r.dataset.status)",
    "images": "document.querySelectorAll('img').length",
    "ready": "document.documentElement.getAttribute('data-ready')",
    "message": "document.getElementById('commit-message').textContent",
    "text": "document.body.innerText",
    "chart": "document.querySelectorAll('#chart rect').length",
    "drilldown": "document.querySelectorAll('details.req').length",
    "artifact_links": "Array.from(document.querySelectorAll('a[href^=\"artifacts/\"]'))"
    ".map(a => a.getAttribute('href'))",
}


def test_the_report_in_headless_chromium(released: Release, tmp_path: Path) -> None:
    """Unpacked from the zip and opened offline: no console error, no request but the page
    itself, the 47-row matrix coloured by status, and repository strings shown as text."""
    executable = chromium.binary()
    if executable is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    out = tmp_path / "evidence.zip"
    assert (
        main(["export", "--repo", str(released.repo), "--release", released.tag, "--out", str(out)])
        == 0
    )
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(out) as z:
        z.extractall(unpacked)
    url = (unpacked / "index.html").as_uri()
    page = chromium.load(executable, tmp_path / "profile", url, EXPRESSIONS)
    assert page.errors == []
    assert page.requests == [url]
    assert page.dialogs == []
    values = page.values
    assert values["ready"] == "1"  # the inline script ran: its CSP hash is right
    assert values["rows"] == 47 and values["coloured"] == 47
    assert "SM-10=not_applicable" in values["statuses"] and "SVV-4=satisfied" in values["statuses"]
    assert values["images"] == 0
    assert values["message"].startswith(f"release candidate {XSS}")
    assert values["text"].count(XSS) >= 4  # commit, tag message, note, waiver, N/A justification
    assert values["chart"] >= 8 and values["drilldown"] == 47
    for href in values["artifact_links"]:
        assert (unpacked / href).is_file(), href


def test_every_repository_string_is_escaped_and_nothing_is_external(
    source: Source, files: dict[str, bytes]
) -> None:
    text = files["index.html"].decode()
    assert XSS not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "pentest &lt;img src=x onerror=alert(1)&gt;.txt" in text  # a file name
    for attribute in re.findall(r'\b(?:src|href)="([^"]*)"', text):
        assert not re.match(r"^[a-z]+:|^//", attribute), attribute
    assert "<link" not in text and "@import" not in text and "url(" not in text


def test_the_content_security_policy_allows_exactly_the_inline_style_and_script(
    files: dict[str, bytes],
) -> None:
    text = files["index.html"].decode()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text)
    assert csp is not None
    policy = unescape(csp.group(1))
    style = re.search(r"<style>(.*?)</style>", text, re.S)
    script = re.search(r"<script>(.*?)</script>", text, re.S)
    assert style is not None and script is not None
    for block in (style.group(1), script.group(1)):
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert policy.startswith("default-src 'none';") and "unsafe" not in policy
    assert text.count("<script") == 1


def test_a_stand_alone_page_from_verdicts_alone(source: Source) -> None:
    text = EXPORTERS["html"].render(Report(source.conformance))
    assert text.count('data-requirement="') == 47
    assert "Package contents" not in text
    assert html.view(source) == html.view(source)
