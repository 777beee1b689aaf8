"""Severity of a dependency vulnerability: the CVSS base score computed from the OSV record's
vector by the `cvss` package, or unknown with the reason — never an invented number."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sdl_tracker.collectors.deps import osv, osvapi
from sdl_tracker.collectors.deps.pins import Pin
from sdl_tracker.collectors.deps.pipaudit import Dependency, Report, Vuln
from sdl_tracker.collectors.deps.severity import Severity, from_osv
from sdl_tracker.errors import InputError

PYPA_DB = Path(__file__).resolve().parents[2] / ".." / "shared" / "osv" / "pypa-advisory-database"
V3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"  # 7.5
V3_LOW = "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"  # 1.8
V4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"  # 9.3


def _record(vid: str, scored: list[dict[str, str]] | None, **package: Any) -> dict[str, Any]:
    affected: dict[str, Any] = {
        "package": {"name": "demo", "ecosystem": "PyPI"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}],
        **package,
    }
    record: dict[str, Any] = {"id": vid, "affected": [affected]}
    if scored is not None:
        record["severity"] = scored
    return record


@pytest.mark.parametrize(
    ("entries", "score", "vector", "why"),
    [
        ([("CVSS_V3", V3)], 7.5, V3, ""),
        ([("CVSS_V3", V3), ("CVSS_V4", V4)], 9.3, V4, ""),  # the newest version wins
        ([("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P")], 7.5, "AV:N/AC:L/Au:N/C:P/I:P/A:P", ""),
        ([("CVSS_V3", V3_LOW)], 1.8, V3_LOW, ""),
        ([], None, "", "R gives no CVSS vector"),
        ([("Ubuntu", "high")], None, "", "R gives no CVSS vector (only Ubuntu)"),
        ([("CVSS_V3", "CVSS:3.1/AV:N")], None, "", "R: CVSS_V3 'CVSS:3.1/AV:N' is not a valid"),
        ([("CVSS_V3", "9.8")], None, "", "R: CVSS_V3 '9.8' is not a valid vector"),
        ([("CVSS_V4", "junk"), ("CVSS_V3", V3)], 7.5, V3, ""),
    ],
    ids=["v3", "v4-over-v3", "v2", "low", "none", "label-only", "partial", "bare-number", "bad-v4"],
)
def test_score_from_the_vector(
    entries: list[tuple[str, str]], score: float | None, vector: str, why: str
) -> None:
    found = from_osv(entries, "R")
    assert (found.score, found.vector) == (score, vector)
    if score is None:
        assert found.source.startswith(why)
    else:
        assert found.source == "R"


def test_offline_database_scores_each_record(tmp_path: Path) -> None:
    db = tmp_path / "db" / "demo"
    db.mkdir(parents=True)
    records = {
        "X-1": _record("X-1", [{"type": "CVSS_V3", "score": V3}]),
        "X-2": _record("X-2", None),
        "X-3": _record("X-3", None, severity=[{"type": "CVSS_V4", "score": V4}]),  # per package
    }
    for vid, record in records.items():
        (db / f"{vid}.json").write_text(json.dumps(record))
    (dep,) = osv.audit(tmp_path / "db", [Pin("demo", "1.0", "demo==1.0", "t")]).dependencies
    by_id = {v.id: v.severity for v in dep.vulns}
    where = "(the offline OSV database)"
    assert by_id["X-1"] == Severity(7.5, V3, f"OSV record X-1 {where}")
    assert by_id["X-2"] == Severity(None, "", f"OSV record X-2 {where} gives no CVSS vector")
    assert by_id["X-3"] == Severity(9.3, V4, f"OSV record X-3 {where}")


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ('"high"', r"\$\.severity: expected an array"),
        ('[{"type": "CVSS_V3"}]', r"\$\.severity\[0\]\.score: expected a non-empty string"),
        ('["CVSS:3.1/AV:N"]', r"\$\.severity\[0\]: expected an object with `type` and `score`"),
    ],
)
def test_a_malformed_severity_names_its_place(tmp_path: Path, severity: str, expected: str) -> None:
    path = tmp_path / "demo" / "X.json"
    path.parent.mkdir()
    path.write_text(f'{{"id": "X", "severity": {severity}, "affected": []}}')
    with pytest.raises(InputError, match=expected):
        osv.parse(path)


@pytest.mark.skipif(not PYPA_DB.is_dir(), reason="../shared/osv/pypa-advisory-database absent")
def test_the_pypa_database_scores_what_it_can_and_says_what_it_cannot() -> None:
    (dep,) = osv.audit(PYPA_DB, [Pin("werkzeug", "2.2.2", "werkzeug==2.2.2", "t")]).dependencies
    by_id = {v.id: v.severity for v in dep.vulns}
    scored = by_id["PYSEC-2023-221"]
    assert scored is not None and (scored.score, scored.vector) == (7.5, V3)
    unscored = by_id["PYSEC-2023-57"]
    assert unscored is not None and unscored.score is None
    assert unscored.source.endswith("gives no CVSS vector")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8080/v1/query", "http://127.0.0.1:8080/v1/vulns/PYSEC-1%2F2"),
        ("https://mirror.example/osv/v1/query/", "https://mirror.example/osv/v1/vulns/PYSEC-1%2F2"),
        ("https://mirror.example/osv/v1/querybatch", None),
        ("query", None),
    ],
)
def test_the_record_url_is_the_query_servers_own(url: str, expected: str | None) -> None:
    assert osvapi.record_url(url, "PYSEC-1/2") == expected


def test_unfetched_or_unreadable_records_leave_the_severity_unknown() -> None:
    report = Report((Dependency("demo", "1.0", (Vuln("A"), Vuln("B"), Vuln("C"))),))
    fetched = osvapi.Fetched(
        records={
            "B": {"id": "B", "affected": "nope"},
            "C": {"id": "C", "severity": [{"type": "CVSS_V3", "score": V3}], "affected": []},
        },
        problems={"A": "http://x/v1/vulns/A answered HTTP 404"},
    )
    (dep,) = osvapi.rate(report, fetched, "the OSV server http://x/v1/query").dependencies
    a, b, c = (v.severity for v in dep.vulns)
    assert a == Severity(None, "", "OSV record A: http://x/v1/vulns/A answered HTTP 404")
    assert b is not None and b.score is None
    assert b.source.startswith("OSV record B from the OSV server http://x/v1/query cannot be read")
    assert c == Severity(7.5, V3, "OSV record C (the OSV server http://x/v1/query)")
