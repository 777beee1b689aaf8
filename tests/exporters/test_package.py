from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from export_support import copy_repo
from release_factory import SECRET, XSS, Release

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.exporters import package
from sdl_tracker.exporters.dsse import load_signer
from sdl_tracker.exporters.release import gather
from sdl_tracker.exporters.source import Source, statement_bytes
from sdl_tracker.ledger import GitStore
from sdl_tracker.workspace import open_workspace

NOW = datetime(1999, 1, 1, tzinfo=timezone.utc)  # a release is judged at its gate's time


def export(repo: Path, tag: str, *extra: str) -> bytes:
    out = repo.parent / f"evidence-{len(extra)}.zip"
    assert main(["export", "--repo", str(repo), "--release", tag, "--out", str(out), *extra]) == 0
    return out.read_bytes()


def test_the_same_ledger_and_release_give_byte_identical_zips(released: Release) -> None:
    first = export(released.repo, released.tag)
    again = export(released.repo, released.tag)
    assert first == again
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        infos = z.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names) and len(set(names)) == len(names)
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename
            assert info.external_attr == 0o100644 << 16, info.filename
            assert info.create_system == 3 and info.extra == b"" and info.comment == b""
            assert info.compress_type == zipfile.ZIP_DEFLATED
        assert z.comment == b""


def test_entries_appended_after_the_gate_verdict_do_not_change_the_package(
    released: Release, tmp_path: Path
) -> None:
    before = export(released.repo, released.tag)
    copy = copy_repo(released, tmp_path)
    later = tmp_path / "later.txt"
    later.write_text("recorded after the release\n")
    assert main(["record", "training_record", str(later), "--repo", str(copy)]) == 0
    assert len(list(ledger.entries(GitStore(copy)))) == released.gate_seq + 1
    assert export(copy, released.tag) == before


def test_signed_packages_are_reproducible_too(released: Release, tmp_path: Path) -> None:
    key = tmp_path / "signing-key"
    assert main(["keygen", "--out", str(key)]) == 0
    signer = load_signer(key)
    source = gather(open_workspace(released.repo), release=released.tag, policy_file=None, now=NOW)
    assert package.build(source, signer) == package.build(source, signer)
    assert package.build(source, signer) != package.build(source)


def test_the_package_holds_every_view_and_what_they_were_made_from(
    source: Source, files: dict[str, bytes], released: Release
) -> None:
    for name in (
        "MANIFEST.json",
        "conformance.json",
        "traceability.json",
        "findings.sarif",
        "oscal/assessment-results.json",
        "index.html",
        "ledger/entries.jsonl",
        "verify.py",
        "sbom.cdx.json",
        "vex.json",
    ):
        assert name in files, name
    assert "MANIFEST.json.dsse" not in files
    assert not [n for n in files if n.endswith(".dsse.json")]
    stored = list(ledger.entries(GitStore(released.repo)))
    assert files["ledger/entries.jsonl"] == b"".join(e.raw + b"\n" for e in stored)
    assert [e.seq for e in source.entries] == list(range(1, released.gate_seq + 1))
    objects = {o for e in stored for o in e.objects}
    assert {n for n in files if n.startswith("artifacts/")} == {f"artifacts/{o}" for o in objects}
    for name, data in files.items():
        if name.startswith("artifacts/"):
            assert hashlib.sha256(data).hexdigest() == name.removeprefix("artifacts/")
    statements = sorted(int(n.split("/")[1].split(".")[0]) for n in files if "statements/" in n)
    assert statements == list(range(1, released.gate_seq + 1))  # every entry is referenced
    for seq in statements:
        raw = files[f"statements/{seq}.intoto.json"]
        assert raw == statement_bytes(stored[seq - 1])
        assert json.loads(raw)["_type"] == "https://in-toto.io/Statement/v1"
    assert files["vex.json"] == (released.repo / "vex.json").read_bytes()


def test_the_manifest_lists_every_file_with_its_digest(files: dict[str, bytes]) -> None:
    manifest = json.loads(files["MANIFEST.json"])
    listed = manifest["files"]
    assert set(listed) == set(files) - {"MANIFEST.json"}
    for name, meta in listed.items():
        assert meta == {"sha256": hashlib.sha256(files[name]).hexdigest(), "size": len(files[name])}
    assert manifest["format"] == "sdl-tracker-evidence/1"
    assert manifest["release"] == "v1.0" and manifest["signed"] is False
    last = files["ledger/entries.jsonl"].splitlines()[-1]
    assert manifest["ledger"]["last_hash"] == json.loads(last)["hash"]


def test_the_sbom_is_the_recorded_one_and_valid_cyclonedx(
    files: dict[str, bytes], source: Source
) -> None:
    (record,) = source.evidence("sbom")
    ((_, recorded),) = source.artifacts(record, ".json")
    assert files["sbom.cdx.json"] == recorded
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(recorded.decode()) is None


def test_no_secret_value_anywhere_in_the_package(files: dict[str, bytes]) -> None:
    for name, data in files.items():
        assert SECRET.encode() not in data, name
    sarif = json.loads(files["findings.sarif"])
    secrets = [r for r in sarif["runs"] if r["tool"]["driver"]["name"] == "detect-secrets"]
    assert secrets[0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "deploy.env",
        "uriBaseId": "%SRCROOT%",
    }


def test_repository_strings_are_kept_as_data(files: dict[str, bytes]) -> None:
    conformance = json.loads(files["conformance.json"])
    assert XSS in conformance["not_applicable"]["SM-10"]
    assert XSS.encode() not in files["index.html"]
    assert b"&lt;img src=x onerror=alert(1)&gt;" in files["index.html"]
