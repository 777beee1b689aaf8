"""Every `next:` hint leads somewhere: walked on a real repository.

For each requirement of the default policy, the hint of each evidence kind its rule needs names a
command; each distinct command is run in a fresh repository and must parse and either record the
evidence or say what it looked for — never just "appended 0 entries".
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker.cli.main import main
from sdl_tracker.conformance import hints
from sdl_tracker.conformance.model import Status
from sdl_tracker.policy import catalog
from sdl_tracker.policy import load as policy_mod
from sdl_tracker.policy.model import AllOf, AnyOf, Leaf, Policy, Rule, leaves

OSV = Path(__file__).resolve().parents[3].parent / "shared" / "osv" / "pypa-advisory-database"
FUZZ_LOG = Path(__file__).resolve().parents[1] / "data" / "fuzzing" / "libfuzzer-clean.log"
_COMMAND = re.compile(r"`(sdl-tracker [^`]+)`")
#: Kinds no collector makes yet and a person's record is not accepted for: a rule may use them
#: only beside an alternative that can be produced.
UNPRODUCIBLE = {
    "ci_run_log",
    "repo_settings_export",
    "artifact_checksum",
    "artifact_signature",
    "build_provenance",
}
#: Kinds that are ledger mechanisms, not evidence a rule asks for.
# Ledger mechanisms (a waiver, a signature, the approval of a policy) and kinds another
# framework's policy uses (the CRA's Article 14 submissions) need no 62443-4-1 rule.
MECHANISMS = {"waiver", "signature", "policy_approval", "cra_submission", "checkpoint"}


@pytest.fixture(scope="module")
def policy() -> Policy:
    return policy_mod.load("iec62443-4-1")


def commands(kind: str, rid: str) -> list[str]:
    return _COMMAND.findall(hints.produce(kind, rid))


def reachable(rule: Rule, rid: str) -> bool:
    if isinstance(rule, Leaf):
        return bool(commands(rule.kind, rid))
    found = [reachable(r, rid) for r in rule.rules]
    return all(found) if isinstance(rule, AllOf) else any(found)


def test_every_catalogue_kind_is_used_by_the_default_policy(policy: Policy) -> None:
    used = {leaf.kind for rp in policy.requirements for leaf in leaves(rp.rule)}
    used |= {k for rp in policy.requirements for k in rp.process}
    used |= {*policy.maturity.roles, *policy.maturity.training, *policy.maturity.improvement}
    unused = set(catalog.load().evidence_kinds) - used - MECHANISMS
    assert not unused, f"catalogue kinds no rule uses (use them or remove them): {unused}"


def test_every_requirement_can_be_met_by_following_its_hints(policy: Policy) -> None:
    for rp in policy.requirements:
        assert isinstance(rp.rule, (Leaf, AllOf, AnyOf))
        assert reachable(rp.rule, rp.id), f"{rp.id}: no hint of {rp.rule} names a command"
        for leaf in leaves(rp.rule):
            text = hints.produce(leaf.kind, rp.id)
            if not commands(leaf.kind, rp.id):
                assert leaf.kind in UNPRODUCIBLE, f"{rp.id} {leaf.kind}: {text}"
                assert "tailor or waive" in text
            if leaf.population:
                assert commands(leaf.kind, rp.id), hints.action(
                    Status.NOT_DEMONSTRATED, leaf.kind, rp.id
                )


def _argv(command: str, rid: str, repo: Path, file: Path) -> list[str] | None:
    words = shlex.split(command)[1:]
    subst = {
        "FILE": str(file),
        "TAG": "v1.0",
        "DIR": str(OSV),
        "junit.xml": str(file.parent / "junit.xml"),
        # a real libFuzzer log (tests/data/fuzzing) about a file committed in the walk's repository
        "fuzz.log": str(FUZZ_LOG),
        "PATH": "README.md",
    }
    if "DIR" in words and not OSV.is_dir():
        return None
    words = [subst.get(w, w) for w in words]
    if words[0] in ("collect", "record", "gate", "install-hooks"):
        words += ["-C", str(repo)]
    return words


def test_the_hints_walk_on_a_real_repository(
    git_repo: Path, policy: Policy, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "-C", str(git_repo)]) == 0
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "track evidence")
    git(git_repo, "tag", "v1.0")
    file = git_repo.parent / "evidence.txt"
    file.write_text("a record made for this walk\n")
    (git_repo.parent / "junit.xml").write_text(
        '<testsuite name="s" tests="1"><testcase classname="t" name="test_x"/></testsuite>\n'
    )
    walked: dict[str, str] = {}
    for rp in policy.requirements:
        for leaf in leaves(rp.rule):
            for command in commands(leaf.kind, rp.id):
                key = re.sub(r"-r \S+", "-r R", command)
                if key in walked:
                    continue
                argv = _argv(command, rp.id, git_repo, file)
                if argv is None:
                    continue
                capsys.readouterr()
                code = main(argv)
                out, err = capsys.readouterr()
                walked[key] = err
                assert code in (0, 1), f"{rp.id} {leaf.kind}: `{command}` exited {code}: {err}"
                appended = re.search(r"appended (\d+) entr", err)
                said = "note:" in err or "looked for" in err or "not found" in err
                if argv[0] == "collect":
                    assert (appended and int(appended.group(1)) > 0) or said, (
                        f"{rp.id} {leaf.kind}: `{command}` recorded nothing and said nothing: {err}"
                    )
                if argv[0] == "record":
                    assert code == 0, err
    assert any(k.startswith("sdl-tracker collect --only issues") for k in walked)
    assert any(k.startswith("sdl-tracker record fuzzing") for k in walked)
    assert any(k.startswith("sdl-tracker collect --only fuzzing") for k in walked)


def test_the_hints_of_traced_and_marked_evidence_name_what_produces_it() -> None:
    """SUM-1's fixes and SVV-3's fuzz and resource-exhaustion parts come from marked tests: the
    hints say which marker, and which command reads the report."""
    fuzz = hints.produce("fuzzing", "SVV-3")
    assert "`sdl-tracker collect --only tests --from-report junit.xml`" in fuzz
    assert '`@pytest.mark.fuzz("INTERFACE")`' in fuzz
    assert "`sdl-tracker record fuzzing FILE -r SVV-3` with --sign" in fuzz
    assert "`sdl-tracker collect --only fuzzing --from-report fuzz.log --fuzz-target PATH`" in fuzz
    exhaustion = hints.produce("dynamic_analysis", "SVV-3")
    assert '`@pytest.mark.resource_exhaustion("INTERFACE")`' in exhaustion
    demo = hints.action(Status.NOT_DEMONSTRATED, "traceability_matrix", "SUM-1")
    assert '`@pytest.mark.fixes("SEC-…")`' in demo
    assert "`sdl-tracker collect --only tests --from-report junit.xml`" in demo
    assert "security requirements file" in hints.action(
        Status.NOT_DEMONSTRATED, "traceability_matrix", "SVV-1"
    )
