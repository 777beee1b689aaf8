"""The offline OSV matcher: OSV range semantics, database layouts, the real PyPA database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sdl_tracker.collectors.deps import osv
from sdl_tracker.collectors.deps.pins import Pin
from sdl_tracker.errors import InputError

PYPA_DB = Path(__file__).resolve().parents[2] / ".." / "shared" / "osv" / "pypa-advisory-database"


def _record(affected: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"id": "PYSEC-0000-1", "aliases": ["CVE-0000-1"], "affected": affected, **extra}


def _pkg(name: str = "demo", ecosystem: str = "PyPI", **entry: Any) -> dict[str, Any]:
    return {"package": {"name": name, "ecosystem": ecosystem}, **entry}


def _eco(*events: tuple[str, str]) -> dict[str, Any]:
    return {"type": "ECOSYSTEM", "events": [{kind: v} for kind, v in events]}


FIXED = _pkg(ranges=[_eco(("introduced", "0"), ("fixed", "2.0"))])
TWO_WINDOWS = _pkg(
    ranges=[_eco(("introduced", "1.0"), ("fixed", "1.5"), ("introduced", "2.0"), ("fixed", "2.5"))]
)
UNSORTED = _pkg(ranges=[_eco(("fixed", "1.5"), ("introduced", "2.0"), ("introduced", "1.0"))])
LAST = _pkg(ranges=[_eco(("introduced", "1.0"), ("last_affected", "1.4"))])
LISTED = _pkg(versions=["1.0", "1.1", "weird-1"])
GIT_ONLY = _pkg(ranges=[{"type": "GIT", "repo": "https://x", "events": [{"introduced": "0"}]}])
LIMIT = _pkg(ranges=[_eco(("introduced", "0"), ("limit", "1.0"))])
OTHER_ECOSYSTEM = _pkg(ecosystem="npm", ranges=[_eco(("introduced", "0"))])
SPELLED = _pkg(name="Demo_Pkg.X", ranges=[_eco(("introduced", "0"), ("fixed", "3"))])


@pytest.mark.parametrize(
    ("entry", "name", "version", "fixes"),
    [
        (FIXED, "demo", "1.9", ("2.0",)),
        (FIXED, "demo", "2.0rc1", ("2.0",)),
        (FIXED, "demo", "2.0", None),
        (FIXED, "demo", "2.0.0", None),
        (FIXED, "demo", "2.1", None),
        (TWO_WINDOWS, "demo", "0.9", None),
        (TWO_WINDOWS, "demo", "1.2", ("1.5", "2.5")),
        (TWO_WINDOWS, "demo", "1.7", None),
        (TWO_WINDOWS, "demo", "2.4.9", ("1.5", "2.5")),
        (TWO_WINDOWS, "demo", "2.5", None),
        (UNSORTED, "demo", "1.2", ("1.5",)),
        (UNSORTED, "demo", "1.6", None),
        (UNSORTED, "demo", "2.3", ("1.5",)),
        (LAST, "demo", "0.9", None),
        (LAST, "demo", "1.4", ()),
        (LAST, "demo", "1.4.0", ()),
        (LAST, "demo", "1.4.1", None),
        (LISTED, "demo", "1.1", ()),
        (LISTED, "demo", "1.0.0", ()),
        (LISTED, "demo", "1.2", None),
        (LISTED, "demo", "weird-1", ()),
        (GIT_ONLY, "demo", "1.0", None),
        (LIMIT, "demo", "5.0", ()),
        (OTHER_ECOSYSTEM, "demo", "1.0", None),
        (SPELLED, "demo-pkg-x", "2", ("3",)),
    ],
)
def test_affects(
    tmp_path: Path, entry: dict[str, Any], name: str, version: str, fixes: tuple[str, ...] | None
) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_record([entry])))
    (record,) = osv.parse(path)
    assert osv.affects(record, name, version) == fixes


def test_withdrawn_record_affects_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_record([FIXED], withdrawn="2024-01-01T00:00:00Z")))
    (record,) = osv.parse(path)
    assert osv.affects(record, "demo", "1.0") is None


def test_yaml_versions_stay_strings(tmp_path: Path) -> None:
    """`fixed: 2.10` unquoted would be the float 2.1 with a normal YAML loader."""
    path = tmp_path / "r.yaml"
    path.write_text(
        "id: PYSEC-0000-2\naffected:\n- package: {name: demo, ecosystem: PyPI}\n"
        "  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: 0\n    - fixed: 2.10\n"
    )
    (record,) = osv.parse(path)
    assert osv.affects(record, "demo", "2.9") == ("2.10",)
    assert osv.affects(record, "demo", "2.10") is None


def _layout(db: Path) -> None:
    """A PyPA-style per-package directory, a flat directory, and a broken foreign record."""
    (db / "vulns" / "demo").mkdir(parents=True)
    (db / "vulns" / "demo" / "PYSEC-1.yaml").write_text(
        "id: PYSEC-1\naliases: [CVE-1]\naffected:\n- package:\n    name: demo\n"
        "    ecosystem: PyPI\n  ranges:\n  - type: ECOSYSTEM\n    events:\n"
        "    - introduced: '0'\n    - fixed: '1.5'\n"
    )
    (db / "vulns" / "other").mkdir()
    (db / "vulns" / "other" / "PYSEC-2.yaml").write_text(
        "id: PYSEC-2\naffected:\n- package:\n    name: other\n    ecosystem: PyPI\n"
        "  ranges: not-a-list\n"
    )
    (db / "flat").mkdir()
    (db / "flat" / "GHSA-1.json").write_text(
        json.dumps(_record([_pkg("Demo", versions=["1.2"])], id="GHSA-1"))
    )
    (db / "flat" / "GHSA-2.json").write_text(json.dumps(_record([_pkg("unrelated")], id="GHSA-2")))
    (db / ".git").mkdir()
    (db / ".git" / "junk.json").write_text("{")


def test_database_layouts_and_only_needed_records_are_read(tmp_path: Path) -> None:
    db = tmp_path / "db"
    _layout(db)
    found = osv.candidates(db, {"demo"})
    assert sorted(p.relative_to(db).as_posix() for p in found) == [
        "flat/GHSA-1.json",
        "vulns/demo/PYSEC-1.yaml",
    ]
    pins = [Pin("Demo", "1.2", "Demo==1.2", "r:1"), Pin("demo", "1.6", "demo==1.6", "r:2")]
    report = osv.audit(db, pins)
    assert [[v.id for v in d.vulns] for d in report.dependencies] == [["GHSA-1", "PYSEC-1"], []]
    assert report.dependencies[0].vulns[1].fix_versions == ("1.5",)
    with pytest.raises(
        InputError, match=r"other/PYSEC-2.yaml: \$\.affected\[0\]\.ranges: expected"
    ):
        osv.audit(db, [Pin("other", "1.0", "other==1.0", "r:1")])


def test_unpinned_and_unevaluable_dependencies_are_skipped(tmp_path: Path) -> None:
    db = tmp_path / "db"
    (db / "demo").mkdir(parents=True)
    (db / "demo" / "X-1.json").write_text(
        json.dumps(_record([_pkg(ranges=[_eco(("introduced", "not a version"))])], id="X-1"))
    )
    pins = [
        Pin("demo", "1.0", "demo==1.0", "requirements.txt:1"),
        Pin("idna", None, "idna>=2", "requirements.txt:2"),
        Pin("local", None, "./local", "requirements.txt:3", url=True),
    ]
    skipped = [d.skip_reason for d in osv.audit(db, pins).dependencies]
    assert skipped[0] is not None and skipped[0].startswith("X-1: cannot compare versions")
    assert skipped[1] == "not pinned to a version (idna>=2, requirements.txt:2)"
    assert skipped[2] == "a URL, path or editable requirement (./local, requirements.txt:3)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", r"not valid JSON"),
        ('"x"', r"\$: expected an OSV record"),
        ('{"affected": []}', r"\$\.id: expected a non-empty string"),
        ('{"id": "X", "affected": [{"package": {"name": "demo"}}]}', r"package\.ecosystem"),
        (
            '{"id": "X", "affected": [{"package": {"name": "demo", "ecosystem": "PyPI"}, '
            '"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}]}]}',
            r"\$\.affected\[0\]\.ranges\[0\]\.events\[0\]: expected one of introduced",
        ),
        (
            '{"id": "X", "affected": [{"package": {"name": "demo", "ecosystem": "PyPI"}, '
            '"versions": [1.0]}]}',
            r"\$\.affected\[0\]\.versions: expected an array of strings",
        ),
    ],
)
def test_malformed_record(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "demo" / "X.json"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(InputError, match=expected):
        osv.parse(path)


def test_identify(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="OSV database directory not found"):
        osv.identify(tmp_path / "missing")
    with pytest.raises(InputError, match="no OSV records"):
        osv.identify(tmp_path)
    _layout(tmp_path / "db")
    first = osv.identify(tmp_path / "db")
    assert first.files == 4 and first.newest.endswith("Z")
    (tmp_path / "db" / "flat" / "GHSA-3.json").write_text("{}")
    assert osv.identify(tmp_path / "db").fingerprint != first.fingerprint


pypa = pytest.mark.skipif(
    not PYPA_DB.is_dir(), reason="../shared/osv/pypa-advisory-database absent"
)


@pypa
def test_pypa_database_reads_only_the_package_directories() -> None:
    found = osv.candidates(PYPA_DB, {"requests", "py"})
    assert {p.parent.name for p in found} == {"requests", "py"}


@pypa
@pytest.mark.parametrize(
    ("pin", "expected"),
    [
        ("requests==2.19.0", {"PYSEC-2018-28": ("2.20.0",), "PYSEC-2023-74": ("2.31.0",)}),
        ("requests==2.31.0", {}),
        ("py==1.11.0", {"PYSEC-2022-42969": ()}),  # last_affected: 1.11.0
        ("gratient==0.5", {"PYSEC-2024-1": ()}),  # an explicit `versions` list only
        ("gratient==0.6", {}),
        ("Jinja2==2.10", {"PYSEC-2019-217": ("2.10.1",), "PYSEC-2021-66": ("2.11.3",)}),
    ],
)
def test_pypa_database(pin: str, expected: dict[str, tuple[str, ...]]) -> None:
    name, version = pin.split("==")
    (dep,) = osv.audit(PYPA_DB, [Pin(name, version, pin, "test")]).dependencies
    assert dep.skip_reason is None
    assert {v.id: v.fix_versions for v in dep.vulns} == expected
    if name == "requests" and expected:
        assert "CVE-2018-18074" in dep.vulns[0].aliases
