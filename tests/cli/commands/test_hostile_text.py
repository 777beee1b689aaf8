"""Hostile text from the repository through every output: terminal, JUnit, markdown, HTML, JSON.

A Threat Dragon threat id, a `record --summary` and `--note`, a commit message and a policy
title carry ESC, CR, NUL, a C1 control, U+2028 and bidi overrides. Each output is parsed with a
real parser (xml.etree and the JUnit schema, json, html.parser) and must hold no raw control.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from evidence_factory import only, policy_file
from helpers import git

from sdl_tracker.cli.main import main

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
SAMPLE = SHARED / "samples" / "threat-dragon" / "v2-threat-model.json"
SCHEMA = SHARED / "schemas" / "JUnit.xsd"

#: ESC sequences that clear the screen and redraw a line, CR, NUL, C1 (NEL, CSI), DEL, the
#: Unicode separators and the bidi overrides/isolates.
HOSTILE = (
    "T1\x1b[2K\r\x1b[1ASR-2 Satisfied\x00\x85\x9b31m\x7f\u2028\u2029\u202eevil\u2066x\u2069\u200f"
)
RAW = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
#: What an escaped HOSTILE looks like: the reader sees that something was there.
SHOWN = ("\\x1b[2K", "\\x0d", "\\x00", "\\x85", "\\u2028", "\\u202e", "\\u2066")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _clean(text: str, where: str) -> None:
    found = RAW.search(text)
    if found is not None:
        near = text[max(found.start() - 60, 0) : found.start() + 20]
        pytest.fail(f"{where}: raw {found.group()!r} at {found.start()}: {near!r}")


def _terminal(text: str, where: str) -> None:
    """Terminal text: only our own colour sequences would be allowed (colour is off here)."""
    _clean(text, where)
    assert any(s in text for s in SHOWN), f"{where}: the hostile text is not shown escaped"


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.text.extend(v or "" for _, v in attrs)


@pytest.fixture
def repo(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    if not SAMPLE.is_file():
        pytest.skip(f"sample not available at {SAMPLE}")
    assert _run(["init", "-C", str(git_repo)], capsys)[0] == 0
    model = json.loads(SAMPLE.read_text())
    for cell in model["detail"]["diagrams"][0]["cells"]:
        for threat in cell.get("data", {}).get("threats", []) or []:
            threat["id"] = HOSTILE
            threat["title"] = f"title {HOSTILE}"
            threat["status"] = "Open"
    (git_repo / "evil.threatdragon.json").write_text(json.dumps(model))
    git(git_repo, "add", "evil.threatdragon.json")
    message = HOSTILE.replace("\x00", "")  # git refuses NUL in an argument
    git(git_repo, "commit", "-q", "-m", f"add model {message}\n\nbody {message}")
    return git_repo


def test_hostile_text_reaches_no_output_raw(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model = repo / "evil.threatdragon.json"
    code, out, err = _run(
        ["collect", "--only", "threat-model", "--from-report", str(model), "-C", str(repo)],
        capsys,
    )
    assert code == 0, err
    _terminal(err, "collect")
    evidence = tmp_path / f"pentest {HOSTILE[:8]}.txt"
    evidence.write_text("report\n")
    code, out, err = _run(
        [
            "record", "pentest_report", str(evidence), "-r", "SVV-4", "-C", str(repo),
            "--summary", f"summary {HOSTILE}", "--note", f"note {HOSTILE}", "--format", "json",
        ],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    _clean(err, "record")
    assert json.loads(out)["statement"]["predicate"]["result"]["summary"] == f"summary {HOSTILE}"
    _clean(out, "record --format json")
    policy = policy_file(
        tmp_path, "extends: iec62443-4-1\n" + only("SR-2,SVV-4,SM-12,SD-4"), "p.yaml"
    )
    code, out, err = _run(["status", "--policy", str(policy), "-C", str(repo)], capsys)
    _terminal(err, "status")
    code, out, err = _run(
        ["status", "--policy", str(policy), "-C", str(repo), "--format", "json"], capsys
    )
    _clean(out, "status --format json")
    json.loads(out)
    code, out, err = _run(["explain", "SR-2", "--policy", str(policy), "-C", str(repo)], capsys)
    _terminal(err, "explain")
    junit, summary = tmp_path / "gate.xml", tmp_path / "summary.md"
    code, out, err = _run(
        ["gate", "--what-if", "--policy", str(policy), "--junit", str(junit),
         "--summary", str(summary),
         "-C", str(repo)],
        capsys,
    )  # fmt: skip
    assert code == 1, err
    _terminal(err, "gate")
    xml_text = junit.read_text(encoding="utf-8")
    _clean(xml_text, "gate --junit")
    suite = ET.fromstring(xml_text)  # well-formed
    failures = [f.get("message") or "" for f in suite.iter("failure")]
    assert any("\\x1b" in m for m in failures), failures
    if SCHEMA.is_file():
        xmlschema = pytest.importorskip("xmlschema")
        xmlschema.XMLSchema(str(SCHEMA)).validate(xml_text)
    md = summary.read_text(encoding="utf-8")
    _clean(md, "gate --summary")
    git(repo, "tag", "v1.0")
    for fmt in ("html", "oscal", "sarif", "json"):
        target = tmp_path / f"export.{fmt}"
        code, out, err = _run(
            ["export", "--release", "v1.0", "--format", fmt, "--out", str(target),
             "--policy", str(policy), "-C", str(repo)],
            capsys,
        )  # fmt: skip
        assert code == 0, (fmt, err)
        body = target.read_text(encoding="utf-8")
        _clean(body, f"export --format {fmt}")
        if fmt == "html":
            parser = _Html()
            parser.feed(body)
            _clean("".join(parser.text), "export html (parsed)")
        else:
            json.loads(body)
