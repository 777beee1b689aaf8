from __future__ import annotations

import base64
import colorsys
import hashlib
import re
import zipfile
from html import unescape
from pathlib import Path

import headless_chromium as chromium
import pytest
from release_factory import XSS, Release

from sdl_tracker.cli.main import main
from sdl_tracker.conformance.model import PracticeResult, Status
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
    # The text colour and the nearest opaque background of every element that sets a colour.
    "pairs": "Array.from(document.querySelectorAll('.status, .verdict, .filetype, .muted, "
    "details.next > summary, th, td, pre, .note, .prov, dt, dd, p, li')).map(e => {"
    " let b = e; let bg = 'rgba(0, 0, 0, 0)';"
    " while (b && (bg = getComputedStyle(b).backgroundColor) === 'rgba(0, 0, 0, 0)') "
    "{ b = b.parentElement; }"
    " if (!b) { bg = 'rgb(255, 255, 255)'; }"
    " return [e.className || e.tagName, getComputedStyle(e).color, bg]; })",
}


def test_the_report_in_headless_chromium(released: Release, tmp_path: Path) -> None:
    """Unpacked from the zip and opened offline: no console error, no request but the page
    itself, the 47-row matrix coloured by status, and repository strings shown as text."""
    executable = chromium.required()
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
    assert len(values["pairs"]) > 100
    for name, fg, bg in values["pairs"]:
        assert contrast(_rgb(fg), _rgb(bg)) >= 4.5, (name, fg, bg)


def test_a_screenshot_of_the_report_shows_every_status_colour(
    source: Source, tmp_path: Path
) -> None:
    """`chromium --headless --screenshot`: the PNG exists, has the size asked for, is not blank,
    and every status colour is on it (the legend and the chart's bars)."""
    executable = chromium.required()
    page = tmp_path / "index.html"
    page.write_text(html.view(source), encoding="utf-8")
    shot = tmp_path / "report.png"
    chromium.screenshot(executable, tmp_path / "profile", page.as_uri(), shot, "1200x1300")
    width, height, colours = chromium.png_colours(shot.read_bytes())
    assert (width, height) == (1200, 1300)
    assert len(colours) > 50  # text, badges, bars: far from a blank page
    assert colours[(255, 255, 255)] < width * height * 0.95
    for status, style in html.STYLES.items():
        assert colours[_rgb(style.color)] > 200, f"{status.value} ({style.color}) not shown"


def _rgb(css: str) -> tuple[int, int, int]:
    if css.startswith("#"):
        digits = css[1:] if len(css) == 7 else "".join(c * 2 for c in css[1:])
        r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
        return r, g, b
    found = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)", css)
    assert found and found.group(4) in (None, "1"), css  # opaque colours only
    return int(found.group(1)), int(found.group(2)), int(found.group(3))


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG 2.1 contrast ratio of two sRGB colours."""

    def luminance(rgb: tuple[int, int, int]) -> float:
        def channel(v: int) -> float:
            c = v / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(v) for v in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _hue(css: str) -> float:
    r, g, b = (v / 255 for v in _rgb(css))
    return colorsys.rgb_to_hls(r, g, b)[0] * 360


def _css_rules(css: str) -> list[tuple[str, dict[str, str]]]:
    rules = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        props = {
            k.strip(): v.strip()
            for k, _, v in (d.partition(":") for d in body.split(";") if ":" in d)
        }
        rules.append((selector.strip(), props))
    return rules


def test_every_status_has_a_style_with_its_own_hue_and_icon() -> None:
    assert set(html.STYLES) == set(Status)  # a new status is one line in STYLES
    icons = [s.icon for s in html.STYLES.values()]
    assert len(set(icons)) == len(icons) and all(icons)
    colours = [s.color for s in html.STYLES.values()]
    assert len(set(colours)) == len(colours)
    missing, failing = html.STYLES[Status.MISSING].color, html.STYLES[Status.FAILING].color
    assert abs(_hue(missing) - _hue(failing)) % 360 >= 90  # not two reds
    for status, style in html.STYLES.items():
        assert contrast(_rgb(style.text), _rgb(style.color)) >= 4.5, status  # text on a badge
        assert contrast(_rgb(style.color), _rgb(html.PAGE)) >= 3, status  # bar, row marker


def test_every_colour_pair_of_the_stylesheet_meets_wcag_aa() -> None:
    """Each rule that sets a text colour or a background is read with its counterpart (its own,
    else the page's: body text on white) and must reach 4.5:1."""
    css = html._asset("report.css") + html.status_css()
    rules = _css_rules(css)
    body = dict(rules)["body"]["color"]
    checked = 0
    for selector, props in rules:
        fg = props.get("color") or props.get("fill")
        bg = props.get("background") or props.get("background-color")
        if not fg and not bg:
            continue
        if selector.startswith("svg text.bar-icon"):
            continue  # an icon on a bar: checked against every status colour below
        ratio = contrast(_rgb(fg or body), _rgb(bg or html.PAGE))
        assert ratio >= 4.5, f"{selector}: {fg or body} on {bg or html.PAGE} is {ratio:.2f}:1"
        checked += 1
    assert checked >= 20
    icon = dict(rules)["svg text.bar-icon"]["fill"]
    for style in html.STYLES.values():
        assert contrast(_rgb(icon), _rgb(style.color)) >= 4.5


def test_statuses_carry_an_icon_reasons_come_first_and_levels_are_explained_once(
    files: dict[str, bytes],
) -> None:
    text = files["index.html"].decode()
    for status, style in html.STYLES.items():
        badge = f'<span class="icon" aria-hidden="true">{style.icon}</span>{status.value}</span>'
        assert badge in text, status
    assert text.count("ML2: ML1, and a procedure for every applicable requirement") == 1
    assert '<ul class="levels-rule" id="shared-levels">' in text
    assert "roles not current" in text.split('id="shared-levels"')[1].split("</ul>")[0]
    assert text.count("roles not current") == 1  # said once, not once per practice
    row = re.search(r'data-requirement="SM-4">.*?</tr>', text, re.S)
    assert row is not None
    why = row.group(0).split("</span></td>")[-1]
    assert why.index("training_record: no evidence") < why.index(
        '<details class="next"><summary>What to do next</summary>record it:'
    )


def test_a_satisfied_requirement_says_what_an_assessor_will_still_ask_for(
    files: dict[str, bytes],
) -> None:
    text = files["index.html"].decode()
    svv4 = text.split('<details class="req" id="req-SVV-4">')[1].split("</details>")[0]
    assert "satisfied</span>" in svv4
    assert (
        "<dt>An assessor will still ask for</dt><dd>the testers&#39; qualification and the "
        "report&#39;s scope</dd>" in svv4
    )
    sm4 = text.split('<details class="req" id="req-SM-4">')[1].split("</details>")[0]
    assert "satisfied</span>" not in sm4 and "An assessor will still ask for" not in sm4


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("reports/junit.xml", "XML, application/xml"),
        ("sbom.cdx.json", "CDX.JSON, application/vnd.cyclonedx+json"),
        ("threat-model.yaml", "YAML, application/yaml"),
        ("pentest <img>.TXT", "TXT, text/plain"),
        ("Makefile", "no extension, application/octet-stream"),
        ("archive.weird-ext", "WEIRD-EXT, application/octet-stream"),
    ],
)
def test_artifact_links_name_their_extension_and_media_type(name: str, label: str) -> None:
    assert html._media(name) == label


def test_artifact_links_in_the_report_show_their_type(files: dict[str, bytes]) -> None:
    text = files["index.html"].decode()
    links = re.findall(
        r'<a href="artifacts/[0-9a-f]{64}" type="([^"]+)">([^<]+)</a> '
        r'<span class="filetype">\(([^)]+)\)</span>',
        text,
    )
    assert len(links) >= 5
    assert (
        "application/vnd.cyclonedx+json",
        "sbom.cdx.json",
        "CDX.JSON, application/vnd.cyclonedx+json",
    ) in links


def test_levels_worded_the_same_everywhere_are_pulled_out_but_counts_stay() -> None:
    def practice(pid: str, *levels: str) -> PracticeResult:
        return PracticeResult(pid, pid, 0, levels, {})

    once, own = html._levels(
        [
            practice("SM", "ML1: no - none", "ML2: no - SM-1 (x); and 2 more; roles (r)"),
            practice("SD", "ML1: yes - 3 entries", "ML2: no - SD-1 (x); and 2 more; roles (r)"),
        ]
    )
    assert once == ("ML2: roles (r)",)
    assert own["SM"] == ("ML1: no - none", "ML2: no - SM-1 (x); and 2 more")
    assert own["SD"] == ("ML1: yes - 3 entries", "ML2: no - SD-1 (x); and 2 more")
    assert html._levels([practice("SM", "ML1: no - none")]) == ((), {"SM": ("ML1: no - none",)})


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
