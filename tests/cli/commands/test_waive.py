from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.workspace import open_workspace

GRACE = "Grace Hopper <grace@example.com>"
#: Within the default policy's longest waiver (90 days).
SOON = (datetime.now(timezone.utc) + timedelta(days=30)).date().isoformat()


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def repo(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    return git_repo


def waive(
    repo: Path,
    target: str,
    *,
    reason: str = "accepted",
    expires: str = SOON,
    approver: str = GRACE,
) -> list[str]:
    return [
        target,
        "--reason",
        reason,
        "--expires",
        expires,
        "--approver",
        approver,
        "-C",
        str(repo),
    ]


def statements(repo: Path) -> list[dict]:  # type: ignore[type-arg]
    return [e.to_json()["statement"] for e in ledger.entries(open_workspace(repo).store())]


@pytest.mark.parametrize(
    ("target", "kind"),
    [("SVV-3", "requirement"), ("PYSEC-2018-28", "finding"), ("B602", "finding")],
)
def test_waiver_entry(
    repo: Path, capsys: pytest.CaptureFixture[str], target: str, kind: str
) -> None:
    code, _, err = run(["waive", *waive(repo, target, reason="fixed upstream in 2.20")], capsys)
    assert code == 0 and f"waiver for {target} until {SOON}" in err
    assert "pending approval" in err and "sdl-tracker approve 1" in err
    (st,) = statements(repo)
    p = st["predicate"]
    assert (p["kind"], p["collector"], p["result"]["status"]) == ("waiver", "waive", "info")
    assert p["requirements"] == ([target] if kind == "requirement" else [])
    assert p["details"] == {
        "target": target,
        "target_type": kind,
        "reason": "fixed upstream in 2.20",
        "approver": GRACE,
        "requested_by": "Ada Lovelace <ada@example.com>",
        "expires": f"{SOON}T23:59:59Z",
    }
    assert p["recorded_by"] == "Ada Lovelace <ada@example.com>"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"approver": "Ada <ADA@Example.com>"}, "a waiver needs someone else's approval"),
        ({"approver": "Grace Hopper"}, "give the approver as 'Name <email>'"),
        ({"target": "SM-99"}, "unknown requirement 'SM-99'"),
        ({"target": "no such id!"}, "neither a requirement id"),
        ({"expires": "2020-01-01"}, "not in the future"),
        ({"expires": "next week"}, "expected a date YYYY-MM-DD"),
        ({"expires": "2999-12-31"}, "the policy allows at most 90"),
        ({"reason": "  "}, "--reason is empty"),
    ],
)
def test_bad_waivers_exit_2_and_append_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str], changes: dict[str, str], words: str
) -> None:
    target = changes.pop("target", "SVV-3")
    code, _, err = run(["waive", *waive(repo, target, **changes)], capsys)
    assert code == 2
    assert words in err
    assert statements(repo) == []


def test_reason_approver_and_expiry_are_required(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["waive", "SVV-3", "--reason", "x", "-C", str(repo)])
    assert caught.value.code == 2
    assert "--expires" in capsys.readouterr().err
