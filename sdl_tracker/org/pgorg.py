"""The organisation roll-up's reads from a PostgreSQL ledger: a few entries per chain, not all.

For every repository chain: its head, the head entry (last activity), its newest gate verdict of
a release (else its newest gate verdict of any commit), its waivers and its newest issues
evidence. Queries in one REPEATABLE READ snapshot, served by the partial indexes of schema
versions 2 and 4 (`pgschema`): the verdict and the issues evidence are an index probe per chain,
the waivers one index scan — whatever the chains' length.
The entries come back as their stored bytes and are parsed here; the byte patterns only narrow
the search, so a candidate that is not really a gate verdict is skipped for an older one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sdl_tracker.conformance.verdicts import COLLECTOR as GATE_COLLECTOR
from sdl_tracker.conformance.verdicts import DEFAULT_CATALOG
from sdl_tracker.conformance.verdicts import KIND as GATE_KIND
from sdl_tracker.conformance.waivers import KIND as WAIVER_KIND
from sdl_tracker.errors import LedgerError
from sdl_tracker.ledger import chain, pgschema
from sdl_tracker.ledger.chain import Entry, Head

if TYPE_CHECKING:
    import psycopg

_NO_RELEASE = "position('\"release\":null'::bytea in raw) = 0"
_CHAINS = f"""
SELECT h.repo, h.seq, h.hash, head.raw, rel.raw, gate.raw
FROM sdl_tracker.heads h
LEFT JOIN sdl_tracker.entries head ON head.repo = h.repo AND head.seq = h.seq
LEFT JOIN LATERAL (
    SELECT e.raw FROM sdl_tracker.entries e
    WHERE e.repo = h.repo AND {pgschema.GATE_RECORD} AND {_NO_RELEASE}
    ORDER BY e.seq DESC LIMIT 1
) rel ON true
LEFT JOIN LATERAL (
    SELECT e.raw FROM sdl_tracker.entries e
    WHERE rel.raw IS NULL AND e.repo = h.repo AND {pgschema.GATE_RECORD}
    ORDER BY e.seq DESC LIMIT 1
) gate ON true
WHERE %(all)s OR h.repo = ANY(%(names)s)
ORDER BY h.repo
"""
_WAIVERS = f"""
SELECT e.repo, e.raw FROM sdl_tracker.entries e
WHERE {pgschema.WAIVER} AND (%(all)s OR e.repo = ANY(%(names)s))
ORDER BY e.repo, e.seq
"""
# The newest issues evidence of each chain (the Article 14 cases it stores): an index probe per
# chain on the partial index of schema version 4 (a schema before it: a backward scan).
_ISSUES = f"""
SELECT h.repo, iss.raw FROM sdl_tracker.heads h
JOIN LATERAL (
    SELECT e.seq, e.raw FROM sdl_tracker.entries e
    WHERE e.repo = h.repo AND {pgschema.ISSUE_RECORD}
    ORDER BY e.seq DESC LIMIT 20
) iss ON true
WHERE %(all)s OR h.repo = ANY(%(names)s)
ORDER BY h.repo, iss.seq DESC
"""
_OLDER = f"""
SELECT e.raw FROM sdl_tracker.entries e
WHERE e.repo = %s AND e.seq < %s AND {pgschema.GATE_RECORD}
ORDER BY e.seq DESC LIMIT 100
"""


# The entry right after each chain's chosen verdict: a signed gate appends its checkpoint there,
# in the same transaction (a primary-key probe per chain).
_AFTER = """
SELECT e.repo, e.raw FROM sdl_tracker.entries e
JOIN unnest(%s::text[], %s::bigint[]) AS w(repo, seq) ON e.repo = w.repo AND e.seq = w.seq
"""

_REFUSALS = """
SELECT repo, refused_at, refused_by, direction, seq, other FROM sdl_tracker.refusals
WHERE %(all)s OR repo = ANY(%(names)s)
ORDER BY repo, id
"""


@dataclass(frozen=True)
class Refusal:
    """A `ledger push`/`pull` of this chain refused because the histories diverge (the
    witness table `refusals`, schema version 3)."""

    at: datetime
    by: str
    """The database role that ran it."""
    direction: str
    """push | pull"""
    seq: int
    """The first entry where the two histories differ."""
    other: str
    """The repository ledger it was compared with."""


@dataclass(frozen=True)
class ChainFacts:
    """What the organisation view needs from one repository's chain."""

    repo: str
    head: Head | None
    last: Entry | None
    """The head entry (its `recorded_at` is the chain's last activity)."""
    verdict: Entry | None
    """The newest gate verdict of a release, else the newest gate verdict; None: never gated."""
    waivers: tuple[Entry, ...]
    """Every entry of kind `waiver`, in ledger order (expired ones included)."""
    refusals: tuple[Refusal, ...] = ()
    """Every refused push or pull of this chain, oldest first."""
    issues: Entry | None = None
    """The newest evidence of the issues collector (its Article 14 cases); None: never collected."""
    after_verdict: Entry | None = None
    """The entry right after `verdict` (its checkpoint, when a CI key signed the verdict)."""


def read(url: str, names: Sequence[str] = ()) -> tuple[ChainFacts, ...]:
    """The facts of every chain (or of `names`); LedgerError for an unknown name."""
    import psycopg

    location = f"PostgreSQL ledger {pgschema.redact(url)}"
    with _snapshot(url, location) as conn:
        try:
            params = {"all": not names, "names": list(names)}
            with conn.cursor(binary=True) as cur:
                rows = cur.execute(_CHAINS, params).fetchall()
                waivers: dict[str, list[Entry]] = {}
                for repo, raw in cur.execute(_WAIVERS, params):
                    entry = _entry(raw, repo)
                    if _kind(entry) == ("waiver", None):
                        waivers.setdefault(repo, []).append(entry)
                refusals = _refusals(cur, params)
                issues: dict[str, Entry] = {}
                for repo, raw in cur.execute(_ISSUES, params):
                    entry = _entry(raw, repo)
                    if repo not in issues and _is_issues(entry):
                        issues[repo] = entry
            facts = tuple(
                ChainFacts(
                    repo=repo,
                    head=Head(seq=int(seq), hash=str(digest)) if seq else None,
                    last=_entry(last, repo) if last is not None else None,
                    verdict=_verdict(conn, repo, int(seq), rel, gate),
                    waivers=tuple(waivers.get(repo, ())),
                    refusals=tuple(refusals.get(repo, ())),
                    issues=issues.get(repo),
                )
                for repo, seq, digest, last, rel, gate in rows
            )
            facts = _with_after(conn, facts)
        except psycopg.Error as e:
            raise LedgerError(f"{location}: reading the chains failed: {_text(e)}") from e
    _check_names(names, facts, url)
    return facts


def _with_after(
    conn: psycopg.Connection[Any], facts: tuple[ChainFacts, ...]
) -> tuple[ChainFacts, ...]:
    """Each chain's facts with the entry after its verdict (one query for all chains)."""
    wanted = [(f.repo, f.verdict.seq + 1) for f in facts if f.verdict is not None]
    if not wanted:
        return facts
    repos, seqs = [r for r, _ in wanted], [s for _, s in wanted]
    found = {
        repo: _entry(raw, repo) for repo, raw in conn.execute(_AFTER, (repos, seqs), binary=True)
    }
    return tuple(replace(f, after_verdict=found.get(f.repo)) for f in facts)


def _refusals(cur: psycopg.Cursor[Any], params: dict[str, Any]) -> dict[str, list[Refusal]]:
    found: dict[str, list[Refusal]] = {}
    row = cur.execute("SELECT to_regclass('sdl_tracker.refusals') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return found  # a schema before version 3: no witness table yet
    for repo, at, by, direction, seq, other in cur.execute(_REFUSALS, params):
        found.setdefault(repo, []).append(Refusal(at, by, direction, int(seq), other))
    return found


@contextmanager
def _snapshot(url: str, location: str) -> Iterator[psycopg.Connection[Any]]:
    import psycopg

    conn = pgschema.connect(url)
    try:
        try:
            if pgschema.installed(conn, location) is None:
                raise LedgerError(
                    f"no sdl-tracker ledger in {pgschema.redact(url)} (schema sdl_tracker is "
                    "missing): copy repositories' ledgers there with `sdl-tracker ledger push "
                    "--to URL`, or let CI write there with `sdl-tracker ci --ledger URL`"
                )
            conn.autocommit = False
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            # A few index probes per chain: JIT compilation would cost more than it saves, and
            # without planner statistics (right after a bulk push) the estimates trigger it.
            conn.execute("SET LOCAL jit = off")
        except psycopg.Error as e:
            raise LedgerError(f"{location}: reading the schema failed: {_text(e)}") from e
        yield conn
    finally:
        conn.close()


def _verdict(
    conn: psycopg.Connection[Any], repo: str, head: int, rel: bytes | None, gate: bytes | None
) -> Entry | None:
    """The candidate the query chose, or, when it is not really a gate verdict (the byte
    patterns over-select, rarely), the result of walking the chain's gate candidates."""
    for raw, release in ((rel, True), (gate, False)):
        if raw is not None:
            entry = _entry(raw, repo)
            if _is_verdict(entry, release=release):
                return entry
    if rel is None and gate is None:
        return None
    fallback: Entry | None = None
    before = head + 1
    while True:
        raws = [r[0] for r in conn.execute(_OLDER, (repo, before), binary=True)]
        if not raws:
            return fallback
        for raw in raws:
            entry = _entry(raw, repo)
            if _is_verdict(entry, release=True):
                return entry
            if fallback is None and _is_verdict(entry, release=False):
                fallback = entry
        before = _entry(raws[-1], repo).seq


def _is_verdict(entry: Entry, *, release: bool) -> bool:
    kind, tag = _kind(entry)
    return kind == "gate" and (bool(tag) or not release)


def _kind(entry: Entry) -> tuple[str, str | None]:
    """("gate", release) for a gate verdict, ("waiver", None) for a waiver, else ("", None)."""
    try:
        p = entry.statement().predicate
    except LedgerError:
        return "", None
    if p.kind == GATE_KIND and p.collector == GATE_COLLECTOR:
        if p.details.get("catalog", DEFAULT_CATALOG) != DEFAULT_CATALOG:
            return "", None  # another framework's verdict (CRA): the roll-up is 62443-4-1's
        release = p.details.get("release")
        return "gate", release if isinstance(release, str) else None
    return ("waiver", None) if p.kind == WAIVER_KIND else ("", None)


def _is_issues(entry: Entry) -> bool:
    try:
        p = entry.statement().predicate
    except LedgerError:
        return False
    return p.kind == "issue_tracker_record" and p.collector == "issues"


def _entry(raw: bytes, repo: str) -> Entry:
    return chain.parse(bytes(raw), f"{repo} entries row")


def _check_names(names: Sequence[str], facts: Sequence[ChainFacts], url: str) -> None:
    found = {f.repo for f in facts}
    unknown = [n for n in names if n not in found]
    if unknown:
        raise LedgerError(
            f"no chain for repository {unknown[0]!r} in {pgschema.redact(url)}: check the name "
            "(`sdl-tracker org status --ledger URL` lists them all), or copy that repository's "
            "ledger there with `sdl-tracker ledger push --to URL`"
        )


def _text(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__
