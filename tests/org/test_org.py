"""The organisation roll-up: rows from entries (pure), the PostgreSQL reads, the export zip."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
from evidence_factory import NOW, stmt
from helpers import make_statement

from sdl_tracker import ledger
from sdl_tracker.conformance.waivers import statement as waiver_statement
from sdl_tracker.errors import LedgerError
from sdl_tracker.ledger import chain, pgschema
from sdl_tracker.ledger.chain import Entry, Head
from sdl_tracker.ledger.pgstore import PgStore
from sdl_tracker.models import JSON, ResultStatus, Statement
from sdl_tracker.org import export as orgexport
from sdl_tracker.org import pgorg
from sdl_tracker.org import render as orgrender
from sdl_tracker.org import status as org
from sdl_tracker.org.pgorg import ChainFacts
from sdl_tracker.org.signatures import Signatures

PRACTICES = ("SM", "SR", "SD", "SI", "SVV", "DM", "SUM", "SG")
ADA, GRACE = "Ada Lovelace <ada@example.com>", "Grace Hopper <grace@example.com>"


def verdict(
    release: str | None = "v1.0",
    *,
    passed: bool = False,
    statuses: JSON = None,
    maturity: JSON = None,
    age_days: float = 1,
) -> Statement:
    """A `release_gate_record` as `sdl-tracker gate` writes it (collector gate)."""
    details: dict[str, JSON] = {
        "release": release,
        "commit": "c" * 40,
        "passed": passed,
        "policy": "iec62443-4-1",
        "statuses": statuses
        if statuses is not None
        else {"SM-1": "satisfied", "SI-2": "stale", "SVV-3": "stale", "SM-4": "incomplete"},
        "ratchet": [],
        "waivers": [],
    }
    if maturity is not None:
        details["maturity"] = maturity
    return stmt(
        "release_gate_record",
        status=ResultStatus.PASS if passed else ResultStatus.FAIL,
        details=details,
        age_days=age_days,
    )


def waiver(target: str, days: float, approver: str = GRACE) -> Statement:
    return waiver_statement(
        target=target,
        reason="booked <script>alert(1)</script>",
        approver=approver,
        requested_by=ADA,
        expires=NOW + timedelta(days=days),
        commit=None,
        now=NOW - timedelta(days=3),
    )


def decoy(nested: dict[str, JSON]) -> Statement:
    """An attestation whose details nest the byte patterns the indexes look for."""
    return stmt("pentest_report", details={"copied": nested})


def facts(repo: str, statements: list[Statement], verdict_at: int | None) -> ChainFacts:
    entries = chain.seal(None, statements)
    return ChainFacts(
        repo=repo,
        head=Head(seq=entries[-1].seq, hash=entries[-1].hash),
        last=entries[-1],
        verdict=entries[verdict_at] if verdict_at is not None else None,
        waivers=tuple(e for e in entries if e.statement().predicate.kind == "waiver"),
    )


def test_rows_from_entries() -> None:
    maturity: JSON = {"SG": 0, "SM": 2, "SI": 1}
    chains = [
        facts(
            "widget",
            [
                make_statement(0),
                verdict(maturity=maturity),
                waiver("SVV-4", 12.5),  # listed: stops counting in 12 days
                waiver("SI-2", 5),
                waiver("SI-2", 300),  # SI-2 stays waived by the longer one: not listed
                waiver("SM-9", 3, approver=ADA),  # self-approved: not a waiver
                waiver("DM-1", -1),  # already expired: not "about to"
            ],
            1,
        ),
        facts("never-gated", [make_statement(1)], None),
        facts("old-format", [verdict(release=None, passed=True)], 0),
        facts("broken", [verdict(statuses={"SM-1": "great"})], 0),
    ]
    found = org.status(chains, ledger="pg", now=NOW, within_days=30, practices=PRACTICES)
    rows = {r.repo: r for r in found.rows}
    assert list(rows) == ["broken", "never-gated", "old-format", "widget"]
    widget: Any = rows["widget"].to_json()
    assert widget["gate"] == "failed" and widget["entries"] == 7
    assert widget["stale"] == 2 and widget["incomplete"] == 1
    assert widget["maturity"] == {"SM": 2, "SI": 1, "SG": 0}
    assert [(w["target"], w["days_left"]) for w in widget["waivers_expiring"]] == [("SVV-4", 12)]
    assert widget["last_activity"] == "2026-05-29T12:00:00Z"
    assert rows["never-gated"].to_json()["maturity_note"] == org.NO_VERDICT
    old = rows["old-format"].to_json()
    assert old["gate"] == "passed" and old["maturity_note"] == org.NOT_RECORDED
    assert rows["broken"].state == "unreadable" and "entry 1 is malformed" in rows["broken"].problem
    totals = found.to_json()["totals"]
    assert totals == {
        "repositories": 4,
        "passed": 1,
        "failed": 1,
        "no_verdict": 1,
        "unreadable": 1,
        "diverged": 0,
        "bad_signatures": 0,
        "waivers_expiring": 1,
    }
    text = orgrender.table(found)
    assert "widget: the waiver for SVV-4 (entry 3) expires on 2026-06-14 (in 12 days)" in text
    assert "approved by" not in text  # no roster named: nobody's approval was checked
    assert "its approval NOT CHECKED here, so whether it counts is unknown" in text
    assert widget["waivers_expiring"][0]["approval"] == "not checked"
    assert "old-format: maturity levels not recorded in its verdict" in text
    assert "| widget | failed | v1.0 | ML2 | - | - | ML1 | - | - | - | none | 2 | 1 | 0 | 1 |" in (
        orgrender.markdown(found)
    )


def test_an_expiring_waiver_says_whether_a_roster_approver_approved_it() -> None:
    """A waiver request names an approver; only a checked signature makes it approved. Without
    the chain's roster the view says it did not check, never "approved by" the name asked for."""
    statements = [waiver("SVV-4", 10), waiver("SI-2", 5), waiver("SI-2", 20), waiver("DM-1", 8)]
    chain_facts = facts("widget", statements, None)
    seq = [e.seq for e in chain_facts.waivers]
    roster = Signatures(
        roster="sdl-roster.yaml at 0123456789",
        approvals=(
            (seq[0], GRACE, ""),
            (seq[1], GRACE, ""),
            (seq[2], "", "no approval signature"),
            (seq[3], "", "the request is not signed by its requester"),
        ),
    )
    checked = org.status(
        [chain_facts], ledger="pg", now=NOW, within_days=30, signatures={"widget": roster}
    )
    found = {w.target: w for w in checked.rows[0].expiring}
    assert (found["SVV-4"].approval, found["SVV-4"].approved_by) == ("approved", GRACE)
    # SI-2 counts by the 5-day waiver only: that is the one about to stop counting
    assert (found["SI-2"].seq, found["SI-2"].approval, found["SI-2"].days_left) == (
        seq[1],
        "approved",
        5,
    )
    assert found["DM-1"].approval == "pending" and found["DM-1"].approved_by == ""
    assert "not signed by its requester" in found["DM-1"].why
    text = orgrender.table(checked)
    svv4 = f"the waiver for SVV-4 (entry {seq[0]}) expires on 2026-06-11 (in 10 days), approved by"
    assert f"{svv4} {GRACE}: booked" in text
    dm1 = f"the waiver for DM-1 (entry {seq[3]}) expires on 2026-06-09 (in 8 days), NOT APPROVED,"
    assert f"{dm1} so it does not count" in text
    rows = json.loads(json.dumps(checked.to_json()))["repositories"]
    assert [w["approval"] for w in rows[0]["waivers_expiring"]] == [
        "approved",
        "pending",
        "approved",
    ]

    unchecked = org.status([chain_facts], ledger="pg", now=NOW, within_days=30)
    found = {w.target: w for w in unchecked.rows[0].expiring}
    assert {w.approval for w in found.values()} == {"not checked"}
    assert found["SI-2"].seq == seq[2]  # the longest request: whether any counts is unknown
    assert "approved by" not in orgrender.table(unchecked)


def test_a_chain_whose_signatures_do_not_verify_is_flagged_above_its_verdict() -> None:
    chains = [facts(n, [verdict(release="v1.0", passed=True)], 0) for n in ("a", "b", "c")]
    checked = {
        "a": Signatures(roster="sdl-roster.yaml at 0123456789", checkpoints=2, attestations=1),
        "b": Signatures(
            roster="roster.yaml", problems=("signature entry 3 is bad: it does not verify",)
        ),
    }
    found = org.status(chains, ledger="pg", now=NOW, within_days=30, signatures=checked)
    rows = {r.repo: r.to_json() for r in found.rows}
    assert rows["a"]["gate"] == "passed" and rows["a"]["signatures"]["state"] == "verified"
    assert rows["b"]["gate"] == "bad signatures"  # a passed verdict resting on a bad signature
    assert rows["b"]["signatures"]["problems"] == ["signature entry 3 is bad: it does not verify"]
    assert rows["c"]["gate"] == "passed" and rows["c"]["signatures"]["state"] == "not checked"
    assert found.to_json()["totals"]["bad_signatures"] == 1  # type: ignore[index]
    text = orgrender.table(found)
    assert "- b: signatures: signature entry 3 is bad: it does not verify" in text
    assert "- signatures not checked for c: name each one's roster" in text
    assert "1 passed" not in text and "2 passed" in text and "1 with BAD SIGNATURES" in text


def test_practices_named_only_by_verdicts_come_last() -> None:
    chains = [facts("x", [verdict(maturity={"SM": 1, "ZZ": 3})], 0)]
    found = org.status(chains, ledger="pg", now=NOW, within_days=30, practices=("SM", "SR"))
    assert found.practices == ("SM", "SR", "ZZ")


def _chain(url: str, repo: str, statements: list[Statement]) -> list[Entry]:
    store = PgStore(url, repo)
    store.create()
    sealed = ledger.append(store, statements)
    store.close()
    return sealed


def test_read_picks_the_newest_release_verdict(pg_url: str) -> None:
    a = _chain(
        pg_url,
        "a",
        [
            verdict("v1.0"),
            verdict("v1.1", passed=True),
            verdict(None),  # a later gate of a commit: not a release
            decoy({"kind": "release_gate_record", "collector": "gate", "release": "v9"}),
            decoy({"kind": "waiver"}),
            make_statement(3),
        ],
    )
    b = _chain(pg_url, "b", [verdict(None, passed=True), verdict(None), make_statement(4)])
    c = _chain(pg_url, "c", [make_statement(5), waiver("SVV-4", 10)])
    _chain(pg_url, "d", [])
    found = {f.repo: f for f in pgorg.read(pg_url)}
    assert list(found) == ["a", "b", "c", "d"]
    assert found["a"].verdict == a[1] and found["a"].last == a[-1]
    assert found["a"].head == Head(seq=6, hash=a[-1].hash) and found["a"].waivers == ()
    assert found["b"].verdict == b[1]
    assert found["c"].verdict is None and found["c"].waivers == (c[1],)
    assert found["d"] == ChainFacts(repo="d", head=None, last=None, verdict=None, waivers=())
    assert [f.repo for f in pgorg.read(pg_url, ["c", "a"])] == ["a", "c"]
    with pytest.raises(LedgerError, match="no chain for repository 'zz'"):
        pgorg.read(pg_url, ["a", "zz"])


def test_a_decoy_newer_than_every_verdict_falls_back(pg_url: str) -> None:
    nested: dict[str, JSON] = {"kind": "release_gate_record", "collector": "gate", "release": "v9"}
    sealed = _chain(pg_url, "a", [verdict(None), decoy(nested), decoy({**nested, "release": None})])
    (found,) = pgorg.read(pg_url)
    assert found.verdict == sealed[0]


def test_a_newer_cra_verdict_is_not_the_62443_roll_ups(pg_url: str) -> None:
    cra = verdict("v1.1", passed=True)
    cra.predicate.details["catalog"] = "cra:2024-2847"  # type: ignore[index]
    sealed = _chain(pg_url, "a", [verdict("v1.0"), cra])
    (found,) = pgorg.read(pg_url)
    assert found.verdict == sealed[0]


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (pgorg._CHAINS, "entries_gate_records"),
        (pgorg._WAIVERS, "entries_waivers"),
        (pgorg._ISSUES, "entries_issue_records"),
    ],
)
def test_queries_use_the_partial_indexes(pg_url: str, query: str, index: str) -> None:
    _chain(pg_url, "a", [verdict("v1"), waiver("SI-1", 5), make_statement(1)])
    with psycopg.connect(pg_url) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = conn.execute(b"EXPLAIN " + query.encode(), {"all": True, "names": []}).fetchall()
    assert index in "\n".join(str(r[0]) for r in plan)


def test_reading_and_migrating_a_version_1_schema(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(pgschema.MIGRATIONS[0][1].encode())
        conn.execute(
            "INSERT INTO sdl_tracker.schema_version (version, tool_version) VALUES (1, 'x')"
        )
        conn.execute(
            f"INSERT INTO sdl_tracker.heads (repo, seq, hash) VALUES ('a', 0, '{'0' * 64}')"
        )
        rows = chain.seal(None, [verdict("v2"), make_statement(1)])
        for e in rows:
            conn.execute(
                "INSERT INTO sdl_tracker.entries (repo, seq, hash, raw) VALUES ('a', %s, %s, %s)",
                (e.seq, e.hash, e.raw),
            )
        conn.execute("UPDATE sdl_tracker.heads SET seq = 2, hash = %s", (rows[-1].hash,))
    (found,) = pgorg.read(pg_url)  # a reader does not migrate; without the indexes it still works
    assert found.verdict == rows[0]
    assert ledger.verify(PgStore(pg_url, "a")).entries == 2  # the owner's session migrates
    with psycopg.connect(pg_url) as conn:
        versions = conn.execute("SELECT version FROM sdl_tracker.schema_version ORDER BY 1")
        assert [v for (v,) in versions] == [1, 2, 3, 4]
        names = {n for (n,) in conn.execute("SELECT indexname FROM pg_indexes")}
    assert {"entries_gate_records", "entries_waivers", "entries_issue_records"} <= names


def test_export_escapes_and_encodes_names() -> None:
    chains = [
        facts("acme/widget", [verdict(maturity={"SM": 1}), waiver("SVV-4", 3)], 0),
        facts("a/../b", [make_statement(1)], None),
    ]
    found = org.status(chains, ledger="pg", now=NOW, within_days=30, practices=PRACTICES)
    data = orgexport.build(found, chains)
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert "repositories/acme%2Fwidget/verdict-entry.jsonl" in names
    assert "repositories/a%2F..%2Fb/head.json" in names
    assert all(part not in ("", ".", "..") for n in names for part in n.split("/"))
    assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    html = archive.read("index.html").decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert json.loads(archive.read("MANIFEST.json"))["format"] == orgexport.FORMAT
    assert orgexport.build(found, chains) == data


def test_generated_at_is_the_moment_given() -> None:
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    found = org.status([], ledger="pg", now=moment, within_days=0, practices=PRACTICES)
    assert found.to_json()["generated_at"] == "2030-01-02T03:04:05Z"
    assert orgrender.table(found) == "no repository chains in pg"


def _issues(cases: JSON, age_days: float = 1) -> Statement:
    """The issues collector's evidence with its stored Article 14 cases."""
    made = stmt("issue_tracker_record", details={"cra_cases": cases}, age_days=age_days)
    return replace(made, predicate=replace(made.predicate, collector="issues"))


_CASE: JSON = {
    "id": "SEC-7",
    "kind": "vulnerability",
    "aware_at": "2026-05-30T10:00:00Z",
    "applicable": True,
    "stages": [
        {"stage": "early_warning", "due": "2026-05-31T10:00:00Z", "submitted_at": None},
        {"stage": "notification", "due": "2026-06-02T10:00:00Z", "submitted_at": None},
        {"stage": "final_report", "due": None, "submitted_at": None},
    ],
    "overdue": [],
    "late": [],
}


def test_overdue_article_14_stage_is_flagged_at_the_time_of_the_view() -> None:
    entries = chain.seal(None, [verdict(), _issues([_CASE])])
    chain_facts = ChainFacts(
        repo="widget",
        head=Head(seq=2, hash=entries[-1].hash),
        last=entries[-1],
        verdict=entries[0],
        waivers=(),
        issues=entries[1],
    )
    # collected when nothing was due; a day later the early warning is overdue
    when = datetime(2026, 5, 31, 11, 0, tzinfo=timezone.utc)
    found = org.status([chain_facts], ledger="pg", now=when, within_days=30)
    assert found.rows[0].cra_overdue == ("SEC-7 early_warning",)
    assert "widget: CRA Article 14 report(s) OVERDUE: SEC-7 early_warning" in orgrender.table(found)
    earlier = org.status([chain_facts], ledger="pg", now=when - timedelta(hours=2), within_days=30)
    assert earlier.rows[0].cra_overdue == ()


def test_read_finds_the_newest_issues_evidence(pg_url: str) -> None:
    sealed = _chain(
        pg_url,
        "a",
        [
            _issues([]),
            _issues([_CASE]),
            decoy({"kind": "issue_tracker_record"}),
            make_statement(2),
        ],
    )
    _chain(pg_url, "b", [make_statement(3)])
    found = {f.repo: f for f in pgorg.read(pg_url)}
    assert found["a"].issues == sealed[1]
    assert found["b"].issues is None
