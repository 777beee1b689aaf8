"""Provenance: derived from the path into the ledger, shown everywhere, demanded by the policy."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from evidence_factory import NOW, C, stmt, tailored
from helpers import git
from identity import commit_roster, roster_text, ssh_keys

from sdl_tracker.cli.main import main
from sdl_tracker.conformance.evaluate import evaluate
from sdl_tracker.conformance.evidence import Record
from sdl_tracker.conformance.facts import CommitFacts
from sdl_tracker.conformance.provenance import classify
from sdl_tracker.conformance.signatures import Signer
from sdl_tracker.errors import PolicyError
from sdl_tracker.models import Provenance, Statement
from sdl_tracker.policy import catalog
from sdl_tracker.policy import load as policy_mod

P = Provenance


def rec(st: Statement, seq: int = 1) -> Record:
    return Record(seq=seq, hash="", statement=st)


def with_field(st: Statement, value: Provenance | None) -> Statement:
    return replace(st, predicate=replace(st.predicate, provenance=value))


@pytest.mark.parametrize(
    ("kind", "collector", "stored", "signed", "expected"),
    [
        ("pentest_report", "record", P.ATTESTED, (), P.ATTESTED),
        ("pentest_report", "record", P.VERIFIED, (), P.ATTESTED),  # a field cannot promote it
        ("pentest_report", "record", P.SIGNED, (), P.ATTESTED),  # nor claim a signature
        ("pentest_report", "record", None, (), P.ATTESTED),  # older entry: by collector
        ("pentest_report", "record", P.ATTESTED, (1,), P.SIGNED),  # its signature verified
        ("waiver", "waive", None, (), P.ATTESTED),
        ("release_gate_record", "gate", None, (), P.VERIFIED),
        ("sast", "sast", P.VERIFIED, (), P.VERIFIED),
        ("sast", "sast", P.INGESTED, (), P.INGESTED),
        ("sast", "sast", None, (), P.VERIFIED),
        ("sast", "sast", P.SIGNED, (1,), P.ATTESTED),  # no collector signs: not one of ours
    ],
)
def test_the_class_comes_from_the_path_in_not_from_the_field(
    kind: str, collector: str, stored: Provenance | None, signed: tuple[int, ...], expected: P
) -> None:
    st = with_field(stmt(kind), stored)
    st = replace(st, predicate=replace(st.predicate, collector=collector))
    assert classify(rec(st), frozenset(signed)) is expected


def test_the_stored_field_round_trips_and_older_entries_have_none() -> None:
    st = with_field(stmt("sast"), P.INGESTED)
    data = st.to_json()
    assert data["predicate"]["provenance"] == "ingested"  # type: ignore[index,call-overload]
    assert Statement.from_json(data).predicate.provenance is P.INGESTED
    old = stmt("sast").to_json()
    assert "provenance" not in old["predicate"]  # type: ignore[operator]
    assert Statement.from_json(old).predicate.provenance is None


def test_the_default_policy_wants_signed_for_four_requirements_and_tools_for_tool_kinds() -> None:
    policy = policy_mod.load("iec62443-4-1")
    for rid in ("SVV-4", "SVV-5", "SM-4", "SM-10"):
        kind = next(
            k for k in policy.catalog.requirement(rid).evidence if k in catalog.load().attestable
        )
        assert policy.accepts(rid, kind) == {P.SIGNED}, rid
    assert policy.accepts("SI-2", "sast") == {P.VERIFIED, P.INGESTED}
    assert policy.accepts("SM-3", "document:product_scope") == set(P)


def test_an_unsigned_attestation_leaves_a_signed_requirement_partial_saying_so(
    tmp_path: Path,
) -> None:
    policy = tailored(tmp_path, "")
    pentest = stmt("pentest_report", requirements=("SVV-4",))
    unsigned = evaluate(policy, [pentest], CommitFacts(C), NOW).result("SVV-4")
    assert unsigned.status.value == "partial"
    assert (
        "entry 1 is attested (a person's unsigned statement): SVV-4 needs pentest_report "
        "signed" in unsigned.reason
    )
    assert [(e.provenance, e.counted) for e in unsigned.evidence] == [(P.ATTESTED, False)]
    tess = Signer("Tess Tester <tess@example.com>", ("independent-tester",))
    signed = evaluate(policy, [pentest], CommitFacts(C), NOW, signers={1: (tess,)})
    result = signed.result("SVV-4")
    assert result.status.value == "satisfied" and not result.unsigned_only
    assert result.rests_on()["signed"] == 1


@pytest.mark.parametrize(
    ("signer", "words"),
    [
        (Signer("Grace <g@example.com>", ("approver",)), "Grace <g@example.com> holds none of"),
        (
            Signer("Tess <t@example.com>", ("independent-tester",), authored=True),
            "Tess <t@example.com> authored commits of the release",
        ),
    ],
)
def test_svv4_needs_an_independent_tester_who_wrote_none_of_the_release(
    tmp_path: Path, signer: Signer, words: str
) -> None:
    policy = tailored(tmp_path, "")
    pentest = stmt("pentest_report", requirements=("SVV-4",))
    result = evaluate(policy, [pentest], CommitFacts(C), NOW, signers={1: (signer,)})
    assert result.result("SVV-4").status.value == "partial"
    reason = result.result("SVV-4").reason
    assert words in reason
    assert "SVV-4 needs it signed by independent-tester who authored no commit" in reason


def test_a_tool_kind_recorded_by_a_person_does_not_count(tmp_path: Path) -> None:
    """An entry of a tool-made kind that came in through `record` (an old ledger) is refused."""
    policy = tailored(tmp_path, "")
    forged = replace(
        stmt("sast", metrics={"high": 0}),
        predicate=replace(stmt("sast", metrics={"high": 0}).predicate, collector="record"),
    )
    result = evaluate(policy, [forged], CommitFacts(C), NOW).result("SI-2")
    assert result.status.value == "partial"
    assert "SI-2 needs sast verified or ingested" in result.reason


def test_the_policy_names_unknown_classes(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="unknown provenance class 'trusted'"):
        tailored(tmp_path, "provenance:\n  requirements: {SVV-4: [trusted]}\n")
    with pytest.raises(PolicyError, match="is empty"):
        tailored(tmp_path, "provenance:\n  kinds: {sast: []}\n")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_lorem_walk_ends_in_a_failing_gate_naming_what_rests_on_unsigned_words(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 6-byte file recorded as every attestable kind, made-up Reviewed-by trailers, a
    hand-written "no vulnerabilities" pip-audit report, trivial code: the gate fails."""
    root = git_repo
    (root / "requirements.txt").write_text("requests==2.19.0\n")
    (root / "app.py").write_text("def f():\n    return 1\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "trivial", "-m", "Reviewed-by: Bob <bob@example.com>")
    assert run(["init", "-C", str(root)], capsys)[0] == 0
    lorem = tmp_path / "x.txt"
    lorem.write_bytes(b"lorem\n")
    submission = ["--issue", "S-1", "--stage", "final", "--submitted-at", "2026-11-03T07:40:00Z"]
    for kind in sorted(catalog.load().attestable):
        extra = [*submission, "--reference", "R-1"] if kind == "cra_submission" else []
        assert run(["record", kind, str(lorem), *extra, "-C", str(root)], capsys)[0] == 0, kind
    for kind in (
        "threat_model",
        "test_report",
        "sbom",
        "signed_tag",
        "review_record",
        "document:user_manual",
        "release_gate_record",
        "artifact_checksum",
        "ci_config",
    ):
        code, _, err = run(["record", kind, str(lorem), "-C", str(root)], capsys)
        assert code == 2 and "is evidence a tool makes, not a person's statement" in err, kind
    report = tmp_path / "audit.json"
    report.write_text(
        json.dumps({"dependencies": [{"name": "requests", "version": "2.19.0", "vulns": []}]})
    )
    argv = ["collect", "--only", "deps", "--from-report", str(report), "-C", str(root)]
    assert run(argv, capsys)[0] == 0
    git(root, "tag", "v1.0.0")
    code, out, err = run(
        ["gate", "--release", "v1.0.0", "--format", "json", "-C", str(root)], capsys
    )
    assert code == 1
    conf = json.loads(out)["conformance"]
    by_id = {r["id"]: r for r in conf["requirements"]}
    for rid in ("SVV-4", "SVV-5", "SM-4"):
        assert by_id[rid]["status"] == "partial" and "signed" in by_id[rid]["reason"], rid
    unsigned = sorted(rid for rid, r in by_id.items() if r["unsigned_only"])
    assert unsigned and f"resting only on unsigned attestations ({len(unsigned)}): " in err
    assert ", ".join(r for r in by_id if r in unsigned) in err
    audit = next(
        e for r in conf["requirements"] for e in r["evidence"] if e["kind"] == "dependency_audit"
    )
    assert audit["provenance"] == "ingested"
    assert "by tools" in err and "by people" in err


def test_a_signed_pentest_report_from_an_ssh_key_in_the_roster_counts(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = ssh_keys(tmp_path / "keys")
    commit_roster(git_repo, roster_text(keys))
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    report = tmp_path / "pentest.pdf"
    report.write_bytes(b"%PDF-1.4 external pentest\n")
    argv = ["record", "pentest_report", str(report), "-r", "SVV-4", "-C", str(git_repo)]
    assert run([*argv, "--sign", "--key", str(keys["tess"])], capsys)[0] == 0
    code, _, err = run(["explain", "SVV-4", "-C", str(git_repo)], capsys)
    assert "Satisfied" in err and "[signed]" in err
    # Grace is not a tester: her signature makes it signed, but not by whom SVV-4 needs.
    assert run([*argv, "--sign", "--key", str(keys["grace"])], capsys)[0] == 0
    code, _, err = run(["explain", "SVV-4", "-C", str(git_repo)], capsys)
    assert "Partial" in err and "Grace Hopper <grace@example.com> holds none of the roles" in err
    # Tess, once she authored a commit of the release, is no longer independent.
    assert run([*argv, "--sign", "--key", str(keys["tess"])], capsys)[0] == 0
    (git_repo / "fix.py").write_text("x = 1\n")
    git(git_repo, "add", "fix.py")
    git(git_repo, "commit", "-q", "-m", "fix", "--author", "Tess Tester <tess@example.com>")
    code, _, err = run(["explain", "SVV-4", "-C", str(git_repo)], capsys)
    assert "Tess Tester <tess@example.com> authored commits of the release" in err
    # A key the roster does not list: attested only.
    (other,) = ssh_keys(tmp_path / "stranger", ["tess"]).values()
    assert run([*argv, "--sign", "--key", str(other)], capsys)[0] == 0
    code, out, _ = run(["explain", "SVV-4", "--format", "json", "-C", str(git_repo)], capsys)
    evidence = json.loads(out)["requirement"]["evidence"]
    assert [e["provenance"] for e in evidence][-1] == "attested"


def test_explain_sm4_lists_every_role_holder_with_their_training(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = ssh_keys(tmp_path / "keys")
    text = roster_text(keys).replace(
        "expires: 2099-01-10}", "expires: 2020-01-10}", 1
    )  # Ada's training expired
    commit_roster(git_repo, text)
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    code, _, err = run(["explain", "SM-4", "-C", str(git_repo)], capsys)
    assert code == 0
    assert "roster (sdl-roster.yaml at " in err and "3 people in SDL roles" in err
    assert "Ada Lovelace <ada@example.com>  [developer, approver]  NO current training" in err
    assert (
        "Grace Hopper <grace@example.com>  [approver, product-security-lead]  training current"
        in err
    )
    code, out, _ = run(["explain", "SM-4", "--format", "json", "-C", str(git_repo)], capsys)
    people = {p["person"]: p["training_current"] for p in json.loads(out)["roster"]}
    assert people == {
        "Ada Lovelace <ada@example.com>": False,
        "Grace Hopper <grace@example.com>": True,
        "Tess Tester <tess@example.com>": True,
    }
    code, out, _ = run(["explain", "SI-1", "--format", "json", "-C", str(git_repo)], capsys)
    assert "roster" not in json.loads(out)


def test_a_roster_that_breaks_its_schema_is_an_error_naming_the_place(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit_roster(
        git_repo, "people:\n  - name: X\n    emails: [x@example.com]\n    roles: [boss]\n"
    )
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    code, _, err = run(["status", "-C", str(git_repo)], capsys)
    assert code == 2 and "sdl-roster.yaml at " in err and "people/0/roles/0" in err


def test_a_signature_signs_the_newest_identical_statement_before_it() -> None:
    # Two attestations recorded in the same second can be byte-identical: each signature belongs
    # to the one appended just before it, never to a later copy.
    from sdl_tracker.conformance import signatures

    by_digest = {"d": (3, 5), "e": (7,)}
    assert signatures.target(by_digest, "d", 4) == 3
    assert signatures.target(by_digest, "d", 6) == 5
    assert signatures.target(by_digest, "d", 2) is None
    assert signatures.target(by_digest, "e", 7) is None
    assert signatures.target(by_digest, "x", 9) is None
