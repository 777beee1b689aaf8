"""VEX documents: CycloneDX and OpenVEX `not_affected` statements, matched by id or alias."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sdl_tracker.collectors.deps import vex
from sdl_tracker.errors import InputError

IDS = ("PYSEC-2018-28", "CVE-2018-18074", "GHSA-x84v-xcm2-53pg")


def _cdx(*vulns: dict[str, Any]) -> dict[str, Any]:
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "vulnerabilities": list(vulns)}


def _openvex(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"@context": "https://openvex.dev/ns/v0.2.0", "statements": list(statements)}


def _load(*docs: dict[str, Any]) -> vex.Vex:
    return vex.load([(f"vex{i}.json", json.dumps(d).encode()) for i, d in enumerate(docs)])


@pytest.mark.parametrize(
    "doc",
    [
        _cdx({"id": "CVE-2018-18074", "analysis": {"state": "not_affected",
                                                   "justification": "code_not_present"}}),
        _cdx({"id": "OTHER-1", "references": [{"id": "ghsa-x84v-xcm2-53pg"}],
              "analysis": {"state": "not_affected", "detail": "only used offline"}}),
        _openvex({"vulnerability": {"name": "PYSEC-2018-28"}, "status": "not_affected",
                  "justification": "component_not_present"}),
        _openvex({"vulnerability": {"name": "X", "aliases": ["CVE-2018-18074"]},
                  "status": "not_affected", "impact_statement": "never reachable"}),
        _openvex({"vulnerability": "CVE-2018-18074", "status": "not_affected",
                  "justification": "inline_mitigations_already_exist"}),
    ],
    ids=["cdx-id", "cdx-reference-lowercase", "openvex-name", "openvex-alias", "openvex-0.0.x"],
)  # fmt: skip
def test_not_affected_matches_by_id_or_alias(doc: dict[str, Any]) -> None:
    decided = _load(doc).not_affected(IDS)
    assert decided is not None and decided.justification and decided.source.startswith("vex0.json")


def test_other_states_and_the_last_statement_decide() -> None:
    affected = _cdx({"id": "CVE-2018-18074", "analysis": {"state": "exploitable"}})
    cleared = _openvex(
        {"vulnerability": {"name": "PYSEC-2018-28"}, "status": "not_affected",
         "justification": "vulnerable_code_not_present"}
    )  # fmt: skip
    assert _load(affected).not_affected(IDS) is None
    assert _load(affected, cleared).not_affected(IDS) is not None
    assert _load(cleared, affected).not_affected(IDS) is None
    assert _load(cleared).not_affected(("CVE-1999-0001",)) is None
    no_analysis = _cdx({"id": "CVE-2018-18074"})
    assert _load(no_analysis).statements == ()


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"bomFormat": "SPDX"}, r"vex\.json: \$: expected a CycloneDX VEX"),
        (_cdx({"analysis": {}}), r"vulnerabilities\[0\]\.id: expected a non-empty string"),
        (_cdx({"id": "X", "analysis": {"state": "fine"}}), r"analysis\.state: expected one of"),
        (
            _cdx({"id": "X", "analysis": {"state": "not_affected"}}),
            r"vulnerabilities\[0\]\.analysis\.justification: state not_affected needs",
        ),
        (
            _cdx({"id": "X", "analysis": {"state": "not_affected", "justification": "trust me"}}),
            r"analysis\.justification: expected one of code_not_present",
        ),
        (_cdx({"id": "X", "references": [{}]}), r"references\[0\]\.id"),
        ({**_cdx(), "vulnerabilities": {}}, r"vex\.json: vulnerabilities: expected an array"),
        ({"@context": "https://openvex.dev/ns/v0.2.0"}, r"statements: expected an array"),
        (
            _openvex({"vulnerability": {}, "status": "fixed"}),
            r"statements\[0\]\.vulnerability\.name",
        ),
        (_openvex({"vulnerability": "X", "status": "gone"}), r"statements\[0\]\.status: expected"),
        (
            _openvex({"vulnerability": "X", "status": "not_affected"}),
            r"statements\[0\]\.justification: status not_affected needs a justification",
        ),
    ],
)
def test_malformed_vex_names_the_place(doc: dict[str, Any], expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        vex.load([("vex.json", json.dumps(doc).encode())])


def test_not_json() -> None:
    with pytest.raises(InputError, match=r"^\.vex/a\.json: not JSON"):
        vex.load([(".vex/a.json", b"{")])


def test_paths(tmp_path: Path) -> None:
    assert vex.paths(tmp_path, None) == []
    (tmp_path / ".vex").mkdir()
    for name in ("vex.json", ".vex/b.json", ".vex/a.json", ".vex/notes.txt"):
        (tmp_path / name).write_text("{}")
    assert [p.relative_to(tmp_path).as_posix() for p in vex.paths(tmp_path, None)] == [
        "vex.json",
        ".vex/a.json",
        ".vex/b.json",
    ]
    found = vex.paths(tmp_path, [".vex/*.json", ".vex/a.json", "none/*.json"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [".vex/a.json", ".vex/b.json"]
    with pytest.raises(InputError, match="vex: security.json does not exist"):
        vex.paths(tmp_path, ["security.json"])
