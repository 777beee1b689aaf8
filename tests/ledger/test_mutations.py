"""An attacker's random mutations of a real ledger branch never make the gate pass a failure.

Each example builds a ledger whose gate fails (a failed training record for SM-4, judged once,
so this machine has verified it), mutates the branch with plain git as an attacker with write
access would, and runs the gate again. It must refuse the ledger (exit 2) or still fail (exit
1). The one mutation the chain cannot see on a fresh clone, a history rewritten from scratch
with recomputed hashes, is caught by an anchor recorded before it (`ledger verify --expect`),
as the trust table in docs/concepts/ledger.md says.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from evidence_factory import only, policy_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.ledger.gitstore import GitStore, entries_path

from . import tamper

FAIL, PASS = b'"status":"fail"', b'"status":"pass"'
MUTATIONS = ("edit", "edit-rechain", "delete", "reorder", "rewind", "rewrite", "rewrite-fresh")


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, check=True, text=True
    ).stdout.strip()


def _seal(lines: list[bytes]) -> list[bytes]:
    """Re-chain entry lines: new seq, prev and hash, each statement and objects kept."""
    out, prev = [], "0" * 64
    for seq, raw in enumerate(lines, 1):
        objects = raw[raw.index(b'"objects":[') + 11 : raw.index(b'],"prev":"')]
        statement = raw[raw.index(b',"statement":') + 13 : -1]
        line = tamper.sealed_line(seq, prev, statement, objects)
        prev = line[len(b'{"hash":"') : len(b'{"hash":"') + 64].decode()
        out.append(line)
    return out


def _lines(files: tamper.Files) -> list[bytes]:
    found: list[bytes] = []
    for path in sorted(p for p in files if p.startswith("entries/")):
        found.extend(files[path].splitlines())
    return found


def _with_lines(files: tamper.Files, lines: list[bytes]) -> tamper.Files:
    kept = {p: d for p, d in files.items() if not p.startswith("entries/")}
    if lines:
        kept[entries_path(1)] = b"".join(line + b"\n" for line in lines)
    return kept


def _message(lines: list[bytes]) -> str:
    last = lines[-1]
    seq = last[last.index(b'"seq":') + 6 : last.index(b',"statement"')].decode()
    return (
        f"sdl-ledger: entries 1..{seq}\n\nLedger-Seq: {seq}\nLedger-Hash: {last[9:73].decode()}\n"
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("mutations")
    root = base / "repo"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GIT_CONFIG_GLOBAL", str(base / "gitconfig"))
        (base / "gitconfig").write_text("[user]\n\tname = Ada\n\temail = ada@example.com\n")
        git(base, "init", "-q", str(root))
        git(root, "commit", "-q", "--allow-empty", "-m", "initial commit")
        assert main(["init", "-C", str(root)]) == 0
        for i, (kind, status) in enumerate(
            [("pentest_report", "pass"), ("training_record", "fail"), ("pentest_report", "pass")]
        ):
            report = base / f"r{i}.txt"
            report.write_text(f"report {i}\n")
            args = ["record", kind, str(report), "--status", status, "-C", str(root)]
            assert main(args) == 0
    return root


@pytest.mark.parametrize("mutation", MUTATIONS)
@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(depth=st.integers(min_value=1, max_value=3))
def test_no_mutation_makes_the_gate_pass_a_failure(
    template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mutation: str,
    depth: int,
) -> None:
    work = tmp_path_factory.mktemp("mutant")
    root = work / "repo"
    subprocess.run(["cp", "-a", str(template), str(root)], check=True)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(template.parent / "gitconfig"))
    policy = policy_file(work, "extends: iec62443-4-1\n" + only("SM-4"), "p.yaml")
    gate = ["gate", "--what-if", "--policy", str(policy), "-C", str(root)]
    assert main(gate) == 1  # judged (and verified) before the attack
    store = GitStore(root)
    entries = list(ledger.unverified_entries(store))
    anchor = f"{entries[-1].seq}:{entries[-1].hash}"
    files = tamper.branch_files(root)
    lines = _lines(files)
    failing = next(i for i, line in enumerate(lines) if FAIL in line)
    flipped = [line.replace(FAIL, PASS) if i == failing else line for i, line in enumerate(lines)]

    if mutation == "edit":
        tamper.rewrite(root, tamper.replace_in_entries(FAIL, PASS))
    elif mutation == "edit-rechain":
        sealed = _seal(flipped)
        tamper.rewrite(root, lambda f: _with_lines(f, sealed), message=_message(sealed))
    elif mutation == "delete":
        sealed = _seal([line for i, line in enumerate(lines) if i != failing])
        tamper.rewrite(root, lambda f: _with_lines(f, sealed), message=_message(sealed))
    elif mutation == "reorder":
        swapped = list(lines)
        swapped[failing], swapped[-depth] = swapped[-depth], swapped[failing]
        tamper.rewrite(root, lambda f: _with_lines(f, swapped))
    elif mutation == "rewind":
        depth = min(depth, int(git(root, "rev-list", "--count", "sdl-ledger")) - 1)
        git(root, "update-ref", "refs/heads/sdl-ledger", f"sdl-ledger~{depth}")
    else:  # a new history from scratch, hashes recomputed, the failure gone
        sealed = _seal(flipped)
        commit = tamper.commit_files(
            root, _with_lines(files, sealed), parent=None, message=_message(sealed)
        )
        git(root, "update-ref", "refs/heads/sdl-ledger", commit)
        if mutation == "rewrite-fresh":  # on a fresh clone: nothing remembered
            (root / ".git" / "sdl-tracker" / "verified-sdl-ledger").unlink()

    capsys.readouterr()
    code = main(gate)
    text = capsys.readouterr().err
    if mutation == "rewrite-fresh":
        # A consistent forged history on a fresh clone passes the gate: only an anchor recorded
        # before can tell (the trust table), and it does.
        assert code == 0, text
        assert main(["ledger", "verify", "--expect", anchor, "-C", str(root)]) == 1
        return
    assert code in (1, 2), text
    if code == 1:
        assert "FAILED" in text
    else:
        assert "does not verify" in text, text
