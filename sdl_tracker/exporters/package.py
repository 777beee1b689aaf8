"""The evidence package: one deterministic zip holding every view and what they were made from.

Same ledger and release -> byte-identical zip: entries sorted by name, every timestamp
1980-01-01 00:00, mode 0644, no extra fields or comments, DEFLATE level 9, and every file's
content itself deterministic (sorted JSON keys, content-derived UUIDs, times from the ledger).
Ed25519 signatures are deterministic too, so a signed package is reproducible with the same key.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from importlib import resources

from sdl_tracker import __version__
from sdl_tracker.conformance import signatures, tailoring
from sdl_tracker.exporters import html, oscal, sarif, traceability
from sdl_tracker.exporters import json as conformance_json
from sdl_tracker.exporters.dsse import IN_TOTO, MANIFEST, Signer
from sdl_tracker.exporters.source import Source, statement_bytes
from sdl_tracker.models import JSON, format_time

FORMAT = "sdl-tracker-evidence/1"
EPOCH = (1980, 1, 1, 0, 0, 0)
_SBOM = (".cdx.json", ".cdx.xml", ".json", ".xml")
#: Evidence kinds whose entries the views draw on besides the verdicts' own references.
_VIEWED = ("sast", "dependency_audit", "secret_scan", "threat_model", "traceability_matrix", "sbom")


def build(source: Source, signer: Signer | None = None) -> bytes:
    """The zip's bytes."""
    return archive(contents(source, signer))


def archive(files: Mapping[str, bytes]) -> bytes:
    """`files` as a deterministic zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            z.writestr(info, files[name], compresslevel=9)
    return buffer.getvalue()


def contents(source: Source, signer: Signer | None = None) -> dict[str, bytes]:
    """Every file of the package by its path, MANIFEST.json (and its signature) included."""
    files: dict[str, bytes] = {
        "conformance.json": conformance_json.view(source).encode(),
        "traceability.json": traceability.view(source).encode(),
        "findings.sarif": sarif.view(source).encode(),
        "oscal/assessment-results.json": oscal.view(source).encode(),
        f"oscal/{oscal.PLAN}": oscal.plan_view(source).encode(),
        "ledger/entries.jsonl": b"".join(e.raw + b"\n" for e in source.entries),
        "verify.py": (resources.files("sdl_tracker.exporters") / "verify_script.py").read_bytes(),
    }
    files.update(_sbom(source))
    if source.roster is not None:  # who held which key and role: verify.py checks signers
        roster = {"commit": source.conformance.commit, **source.roster.to_json()}
        files["roster.json"] = json.dumps(roster, indent=2, sort_keys=True).encode() + b"\n"
    for sha256, data in source.objects.items():
        files[f"artifacts/{sha256}"] = data
    for seq in statements(source):
        payload = statement_bytes(source.entries[seq - 1])
        files[f"statements/{seq}.intoto.json"] = payload
        if signer is not None:
            files[f"statements/{seq}.dsse.json"] = signer.sign(payload, IN_TOTO)
    signed = ["MANIFEST.json.dsse"] if signer is not None else []
    files["index.html"] = html.view(
        source, [*files, "index.html", "MANIFEST.json", *signed]
    ).encode()
    manifest = _manifest(source, files, signer)
    files["MANIFEST.json"] = manifest
    if signer is not None:
        files["MANIFEST.json.dsse"] = signer.sign(manifest, MANIFEST)
    return files


def statements(source: Source) -> tuple[int, ...]:
    """Entries whose statements the package carries: those the verdicts and the views rest on."""
    seqs = set(source.referenced())
    for kind in _VIEWED:
        seqs.update(r.seq for r in source.evidence(kind))
    # the signatures over attestations and approvals of waivers: an auditor re-checks them
    seqs.update(r.seq for r in source.records if r.statement.predicate.kind == signatures.KIND)
    # the policy approvals those signatures sign: what made the policy's tailoring count
    seqs.update(r.seq for r in source.records if r.statement.predicate.kind == tailoring.KIND)
    return tuple(sorted(s for s in seqs if 1 <= s <= len(source.entries)))


def _sbom(source: Source) -> dict[str, bytes]:
    """`sbom.cdx.json` (or `.xml`) from the newest SBOM evidence; `vex.json` from the audit."""
    found: dict[str, bytes] = {}
    for record in reversed(source.evidence("sbom")):
        boms = source.artifacts(record, *_SBOM)
        if boms:
            artifact, data = boms[0]
            xml = artifact.name.lower().endswith(".xml")
            found["sbom.cdx.xml" if xml else "sbom.cdx.json"] = data
            break
    vex: dict[str, bytes] = {}
    for record in source.evidence("dependency_audit"):
        names = record.statement.predicate.details.get("vex_files")
        wanted = {str(n) for n in names} if isinstance(names, list) else set()
        for artifact, data in source.artifacts(record):
            if artifact.name in wanted:
                vex[artifact.name] = data
    if len(vex) == 1:
        found["vex.json"] = next(iter(vex.values()))
    for i, name in enumerate(sorted(vex) if len(vex) > 1 else ()):
        found[f"vex/{i + 1}-{name.replace('/', '_')}"] = vex[name]
    return found


def _manifest(source: Source, files: Mapping[str, bytes], signer: Signer | None) -> bytes:
    conf = source.conformance
    last = source.entries[-1] if source.entries else None
    doc: dict[str, JSON] = {
        "format": FORMAT,
        "generator": f"sdl-tracker {__version__}",
        "release": conf.release,
        "commit": conf.commit,
        "evaluated_at": format_time(conf.evaluated_at),
        "policy_digest": conf.policy_digest,
        "passed": conf.passed,
        "ledger": {
            "path": "ledger/entries.jsonl",
            "entries": len(source.entries),
            "last_hash": last.hash if last else "0" * 64,
        },
        "signed": signer is not None,
        "keyid": signer.keyid if signer else None,
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in sorted(files.items())
        },
    }
    # Catches a damaged manifest (naming it) when there is no signature; forgery needs --sign.
    compact = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    doc["manifest_sha256"] = hashlib.sha256(compact.encode()).hexdigest()
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"
