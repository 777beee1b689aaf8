from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from evidence_factory import only, policy_file
from helpers import git
from identity import approved_policy, commit_roster, roster_text, ssh_keys

from sdl_tracker import ledger
from sdl_tracker.cli.commands import approve, gate, waive
from sdl_tracker.cli.main import main
from sdl_tracker.workspace import open_workspace

SCHEMA = Path(__file__).resolve().parents[3].parent / "shared" / "schemas" / "JUnit.xsd"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def repo(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    return git_repo


def entries(root: Path) -> list[dict]:  # type: ignore[type-arg]
    return [e.to_json() for e in ledger.entries(open_workspace(root).store())]


def record(root: Path, kind: str, capsys: pytest.CaptureFixture[str], *extra: str) -> None:
    file = root.parent / f"{kind.replace(':', '_')}.txt"
    file.write_text(f"{kind} evidence\n")
    assert run(["record", kind, str(file), "-C", str(root), *extra], capsys)[0] == 0


SMALL = "extends: iec62443-4-1\n" + only("SM-4")


def small_policy(root: Path) -> Path:
    """Only SM-4 (training) applies: committed and approved by the
    product-security-lead, so its tailoring counts for a release verdict."""
    return approved_policy(root, SMALL, "small.yaml")


def draft_policy(root: Path) -> Path:
    """The same policy outside the repository: only a what-if can use it."""
    return policy_file(root.parent, SMALL, "draft.yaml")


def test_gate_fails_closed_and_says_what_to_do(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["gate", "-C", str(repo)], capsys)
    assert code == 1
    assert "SVV-3  Vulnerability testing" in err and "Missing" in err
    assert "run `sdl-tracker collect --only deps --osv-db DIR`" in err
    assert "record it: `sdl-tracker record pentest_report FILE -r SVV-4`" in err
    assert "FAILED (47 requirements not met)" in err
    (verdict,) = entries(repo)
    p = verdict["statement"]["predicate"]
    assert (p["kind"], p["collector"]) == ("release_gate_record", "gate")
    assert p["result"]["status"] == "fail"
    assert p["details"]["release"] is None
    assert p["details"]["commit"] == git(repo, "rev-parse", "HEAD")
    assert len(p["details"]["statuses"]) == 47
    assert p["details"]["statuses"]["SM-12"] == "not_demonstrated"
    assert len(p["details"]["policy_digest"]) == 64
    assert verdict["statement"]["subject"][1]["name"] == "conformance.json"


def test_gate_passes_and_records_one_verdict_per_run(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = small_policy(repo)
    record(repo, "training_record", capsys)
    git(repo, "tag", "v1.0")
    for _ in range(2):
        code, _, err = run(
            ["gate", "--release", "v1.0", "--policy", str(policy), "-C", str(repo)], capsys
        )
        assert code == 0, err
        assert "gate v1.0: PASSED" in err
    kinds = [e["statement"]["predicate"]["kind"] for e in entries(repo)]
    assert kinds == [
        *("policy_approval", "signature", "training_record"),
        *("release_gate_record", "release_gate_record"),
    ]
    details = entries(repo)[-1]["statement"]["predicate"]["details"]
    assert details["release"] == "v1.0" and details["passed"] is True
    assert details["statuses"]["SM-10"] == "not_applicable"


def test_policy_from_the_environment_is_a_what_if(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SDL_TRACKER_POLICY", str(draft_policy(repo)))
    record(repo, "training_record", capsys)
    code, _, err = run(["gate", "-C", str(repo)], capsys)
    assert code == 2
    assert "SDL_TRACKER_POLICY is set" in err and "--what-if" in err
    code, out, err = run(["gate", "--what-if", "--format", "json", "-C", str(repo)], capsys)
    assert code == 0, err
    assert "what-if" in err and "PASSED" in err and "not a release verdict: nothing recorded" in err
    data = json.loads(out)
    assert data["what_if"] is True and data["entry"] is None
    kinds = [e["statement"]["predicate"]["kind"] for e in entries(repo)]
    assert kinds == ["training_record"]


def test_junit_and_summary(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    junit, summary = repo.parent / "gate.xml", repo.parent / "summary.md"
    policy = policy_file(
        repo.parent, "extends: iec62443-4-1\n" + only("SM-4,SM-12,SVV-4"), "p.yaml"
    )
    record(repo, "training_record", capsys)
    code, _, _ = run(
        [
            "gate",
            "--what-if",
            "--policy",
            str(policy),
            "--junit",
            str(junit),
            "--summary",
            str(summary),
            "-C",
            str(repo),
        ],
        capsys,
    )
    assert code == 1
    text = junit.read_text()
    if SCHEMA.is_file():
        xmlschema.XMLSchema(str(SCHEMA)).validate(text)
    else:
        pytest.skip(f"{SCHEMA} absent: JUnit output not validated")
    import xml.etree.ElementTree as ET

    suite = ET.fromstring(text)
    cases = suite.findall("testcase")
    assert len(cases) == 47 and suite.get("failures") == "2" and suite.get("skipped") == "44"
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == [
        "SM-12 Process verification",
        "SVV-4 Penetration testing",
    ]
    assert failed[0].find("failure").get("type") == "not_demonstrated"
    assert "pentest_report: no evidence" in failed[1].find("failure").get("message")
    md = summary.read_text()
    assert md.startswith("## sdl-tracker gate: ❌ failed")
    assert "| SVV-4 Penetration testing | missing |" in md
    assert "| SM-12 Process verification | not_demonstrated |" in md


def test_ratchet_fails_when_a_requirement_got_worse(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = str(small_policy(repo))
    record(repo, "training_record", capsys)
    git(repo, "tag", "v1.0")
    assert run(["gate", "--release", "v1.0", "--policy", policy, "-C", str(repo)], capsys)[0] == 0
    record(repo, "training_record", capsys, "--status", "fail")
    keys = ssh_keys(repo.parent / "keys")
    soon = (datetime.now(timezone.utc) + timedelta(days=60)).date().isoformat()
    assert (
        run(
            [
                "waive",
                "SM-4",
                "--reason",
                "trainer ill, course moved to May",
                "--expires",
                soon,
                "--approver",
                "Grace Hopper <grace@example.com>",
                "--key",
                str(keys["ada"]),
                "-C",
                str(repo),
            ],
            capsys,
        )[0]
        == 0
    )
    waiver = entries(repo)[-2]["seq"]  # the request, then Ada's signature of it
    approve = ["approve", str(waiver), "--key", str(keys["grace"]), "-C", str(repo)]
    assert run(approve, capsys)[0] == 0
    git(repo, "commit", "-q", "--allow-empty", "-m", "next")
    git(repo, "tag", "v1.1")
    code, _, err = run(["gate", "--release", "v1.1", "--policy", policy, "-C", str(repo)], capsys)
    assert code == 0, err
    assert "waivers:" in err and "SM-4" in err and "trainer ill" in err
    code, _, err = run(
        [
            "gate",
            "--release",
            "v1.1",
            "--policy",
            policy,
            "--ratchet",
            "--junit",
            str(repo.parent / "r.xml"),
            "-C",
            str(repo),
        ],
        capsys,
    )
    assert code == 1
    assert "ratchet: SM-4 is worse than at v1.0: satisfied at v1.0, now waived" in err
    assert 'type="ratchet"' in (repo.parent / "r.xml").read_text()
    last = entries(repo)[-1]["statement"]["predicate"]
    assert last["details"]["ratchet"] == ["SM-4: satisfied at v1.0, now waived"]
    assert last["result"]["status"] == "fail"


def test_ratchet_without_a_baseline_says_so(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record(repo, "training_record", capsys)
    code, _, err = run(
        ["gate", "--ratchet", "--policy", str(small_policy(repo)), "-C", str(repo)], capsys
    )
    assert code == 0
    assert "no earlier release verdict" in err


def test_expired_waiver_stops_counting_and_the_gate_says_so(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = ssh_keys(repo.parent / "keys")
    commit_roster(repo, roster_text(keys))
    ws = open_workspace(repo)
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert (
        waive.run(
            ws=ws,
            target="SM-4",
            reason="course booked",
            expires="2026-03-31",
            approver="Grace Hopper <grace@example.com>",
            fmt="text",
            now=now,
            key=keys["ada"],
        )
        == 0
    )
    assert approve.run(ws=ws, seq=1, key=keys["grace"], fmt="text", now=now) == 0
    policy = small_policy(repo)
    assert (
        gate.run(
            ws=ws,
            release=None,
            policy_file=policy,
            ratchet=False,
            junit=None,
            summary=None,
            now=now + timedelta(days=10),
        )
        == 0
    )
    capsys.readouterr()
    code = gate.run(
        ws=ws,
        release=None,
        policy_file=policy,
        ratchet=False,
        junit=repo.parent / "late.xml",
        summary=None,
        now=now + timedelta(days=31),
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "the waiver (entry 1) expired on 2026-03-31" in err
    assert "note: the waiver for SM-4 (entry 1) expired on 2026-03-31 and no longer counts" in err
    assert "EXPIRED" in err
    assert (
        'name="waiver.1.SM-4" value="expired until 2026-03-31T23:59:59Z'
        in (repo.parent / "late.xml").read_text()
    )


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--release", "v9.9"], "release tag 'v9.9' does not exist"),
        (
            ["--junit", "/nonexistent/dir/gate.xml"],
            "--junit /nonexistent/dir/gate.xml: cannot write",
        ),
        (["--what-if", "--policy", "missing.yaml"], "cannot read the policy"),
        (["--policy", "missing.yaml"], "a release verdict uses only the policy committed"),
    ],
)
def test_bad_input_exits_2_and_appends_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    code, _, err = run(["gate", *argv, "-C", str(repo)], capsys)
    assert code == 2
    assert words in err
    assert entries(repo) == []


def test_policy_mistake_exits_2_with_file_and_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = policy_file(repo.parent, "extends: iec62443-4-1\nnot_applicable:\n  SM-3:\n", "bad.yaml")
    code, _, err = run(["gate", "--what-if", "--policy", str(bad), "-C", str(repo)], capsys)
    assert code == 2
    assert f"error: {bad}:3: not_applicable.SM-3: missing justification" in err
    assert entries(repo) == []


def test_gate_json_output(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["gate", "--format", "json", "-C", str(repo)], capsys)
    data = json.loads(out)
    assert code == 1 and data["passed"] is False and data["entry"] == 1
    assert len(data["conformance"]["requirements"]) == 47


def test_a_gate_never_counts_its_own_verdict(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SM-12 rests on the previous release's verdict: not this run, not an earlier run of the
    same release, and never while the verdict being made fails."""
    # Release verdicts: each policy is committed and approved (its tailoring then counts).
    verify = approved_policy(repo, "extends: iec62443-4-1\n" + only("SM-4,SM-12"), "v.yaml")
    strict = approved_policy(
        repo, "extends: iec62443-4-1\n" + only("SM-4,SM-12,SVV-4"), "strict.yaml"
    )
    small = small_policy(repo)
    record(repo, "training_record", capsys)
    git(repo, "tag", "v1.0")
    gate_v1 = ["gate", "--release", "v1.0", "--policy", str(verify), "-C", str(repo)]
    for _ in range(2):  # the second run has the first run's v1.0 verdict: it never counts
        code, _, err = run(gate_v1, capsys)
        assert code == 1, err
        assert "SM-12  Process verification" in err and "Not demonstrated" in err
        assert "no earlier release has a gate verdict" in err
    assert run([*gate_v1[:3], "--policy", str(small), "-C", str(repo)], capsys)[0] == 0
    (repo / "next.txt").write_text("next\n")
    git(repo, "add", "next.txt")
    git(repo, "commit", "-q", "-m", "next")
    git(repo, "tag", "v1.1")
    code, _, err = run(
        ["gate", "--release", "v1.1", "--policy", str(verify), "-C", str(repo)], capsys
    )
    assert code == 0, err
    code, _, err = run(
        ["gate", "--release", "v1.1", "--policy", str(strict), "-C", str(repo)], capsys
    )
    assert code == 1
    details = entries(repo)[-1]["statement"]["predicate"]["details"]
    assert details["statuses"]["SM-12"] == "failing"
    assert "1 other requirement(s) not met and not waived (SVV-4)" in err
