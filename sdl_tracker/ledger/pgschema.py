"""The PostgreSQL ledger's schema: connection, versioned migrations, least-privilege grants.

Everything lives in the `sdl_tracker` schema of the database the URL names::

    schema_version(version, applied_at, applied_by, tool_version)   one row per migration
    heads(repo, seq, hash, created_at, updated_at)   one row per repository: its chain's head
    entries(repo, seq, hash, raw)                    entry bytes exactly as the git store has them
    objects(sha256, data)                            artifacts, stored once for the organisation

Version 2 adds two partial indexes on `entries` for the organisation roll-up (`org status`): the
gate verdicts and the waivers of each chain, picked out by a byte pattern of their canonical
JSON (`position(pattern in raw)`, immutable, so the index needs no derived table and no
trigger; the entry bytes stay the only source of truth and `verify` is unaffected).

Version 3 adds the witness table `refusals(id, repo, refused_at, refused_by, direction, seq,
central_hash, other_hash, other)`: every `ledger push`/`pull` refused because the two histories
diverge leaves a row there (append-only too), and `org status` flags the chain. A rewound
repository ledger that was appended to again diverges from the central copy, so it is caught
and remembered here even when the repository's own branch has been rewritten since.

Version 4 adds a partial index on `entries` for the issues collector's evidence
(`issue_tracker_record`, its Article 14 cases), so that `org status` finds each chain's newest by
an index probe instead of walking the chain backwards from its head.

Triggers make `entries` and `objects` append-only and let a head only move forward onto a stored
entry, so a mistaken `UPDATE`/`DELETE` is refused; one made behind the triggers' back (a superuser
disabling them) is still caught by `ledger verify`, which hashes the stored bytes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from sdl_tracker import __version__
from sdl_tracker.errors import LedgerError

if TYPE_CHECKING:
    import psycopg

SCHEMA = "sdl_tracker"
VERSION = 4
_LOCK_KEY = 0x5D1_7AC4E2  # pg_advisory_xact_lock key serialising migrations

_V1 = """
CREATE SCHEMA IF NOT EXISTS sdl_tracker;
CREATE TABLE sdl_tracker.schema_version (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL DEFAULT current_user,
    tool_version text NOT NULL
);
CREATE TABLE sdl_tracker.heads (
    repo text PRIMARY KEY CHECK (repo <> ''),
    seq bigint NOT NULL CHECK (seq >= 0),
    hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE sdl_tracker.entries (
    repo text NOT NULL REFERENCES sdl_tracker.heads (repo),
    seq bigint NOT NULL CHECK (seq >= 1),
    hash text NOT NULL,
    raw bytea NOT NULL,
    PRIMARY KEY (repo, seq)
);
CREATE TABLE sdl_tracker.objects (
    sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    data bytea NOT NULL
);
CREATE FUNCTION sdl_tracker.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'sdl-tracker ledger: % on %.% refused: the ledger is append-only',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE FUNCTION sdl_tracker.check_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.seq <> 0 OR NEW.hash <> repeat('0', 64) THEN
            RAISE EXCEPTION 'sdl-tracker ledger: a new chain starts empty (seq 0)'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' OR NEW.repo <> OLD.repo OR NEW.seq <= OLD.seq OR NOT EXISTS (
        SELECT 1 FROM sdl_tracker.entries e
        WHERE e.repo = NEW.repo AND e.seq = NEW.seq AND e.hash = NEW.hash
    ) THEN
        RAISE EXCEPTION 'sdl-tracker ledger: % of the head of % refused: a head only moves '
            'forward onto a stored entry', TG_OP, OLD.repo USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON sdl_tracker.entries
    FOR EACH ROW EXECUTE FUNCTION sdl_tracker.refuse_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON sdl_tracker.entries
    FOR EACH STATEMENT EXECUTE FUNCTION sdl_tracker.refuse_change();
CREATE TRIGGER objects_append_only BEFORE UPDATE OR DELETE ON sdl_tracker.objects
    FOR EACH ROW EXECUTE FUNCTION sdl_tracker.refuse_change();
CREATE TRIGGER objects_no_truncate BEFORE TRUNCATE ON sdl_tracker.objects
    FOR EACH STATEMENT EXECUTE FUNCTION sdl_tracker.refuse_change();
CREATE TRIGGER heads_forward_only BEFORE INSERT OR UPDATE OR DELETE ON sdl_tracker.heads
    FOR EACH ROW EXECUTE FUNCTION sdl_tracker.check_head();
CREATE TRIGGER heads_no_truncate BEFORE TRUNCATE ON sdl_tracker.heads
    FOR EACH STATEMENT EXECUTE FUNCTION sdl_tracker.refuse_change();
"""

#: SQL conditions selecting gate verdicts and waivers by the bytes of their canonical JSON.
#: Queries must repeat them verbatim for the planner to use the partial indexes of version 2.
#: They over-select at worst (the same bytes nested in some other entry's details): readers
#: parse the entries they get and keep only real verdicts and waivers.
GATE_RECORD = (
    'position(\'"kind":"release_gate_record"\'::bytea in raw) > 0 '
    'AND position(\'"collector":"gate"\'::bytea in raw) > 0'
)
WAIVER = 'position(\'"kind":"waiver"\'::bytea in raw) > 0'
ISSUE_RECORD = 'position(\'"kind":"issue_tracker_record"\'::bytea in raw) > 0'

_V2 = f"""
CREATE INDEX entries_gate_records ON sdl_tracker.entries (repo, seq) WHERE {GATE_RECORD};
CREATE INDEX entries_waivers ON sdl_tracker.entries (repo, seq) WHERE {WAIVER};
"""

_V3 = """
CREATE TABLE sdl_tracker.refusals (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repo text NOT NULL CHECK (repo <> ''),
    refused_at timestamptz NOT NULL DEFAULT now(),
    refused_by text NOT NULL DEFAULT current_user,
    direction text NOT NULL CHECK (direction IN ('push', 'pull')),
    seq bigint NOT NULL CHECK (seq >= 1),
    central_hash text NOT NULL CHECK (central_hash ~ '^[0-9a-f]{64}$'),
    other_hash text NOT NULL CHECK (other_hash ~ '^[0-9a-f]{64}$'),
    other text NOT NULL
);
CREATE INDEX refusals_repo ON sdl_tracker.refusals (repo, id);
CREATE TRIGGER refusals_append_only BEFORE UPDATE OR DELETE ON sdl_tracker.refusals
    FOR EACH ROW EXECUTE FUNCTION sdl_tracker.refuse_change();
CREATE TRIGGER refusals_no_truncate BEFORE TRUNCATE ON sdl_tracker.refusals
    FOR EACH STATEMENT EXECUTE FUNCTION sdl_tracker.refuse_change();
"""

# IF NOT EXISTS: an administrator may have created it by hand from the documentation.
_V4 = f"""
CREATE INDEX IF NOT EXISTS entries_issue_records ON sdl_tracker.entries (repo, seq)
    WHERE {ISSUE_RECORD};
"""

#: (version, SQL) in order; a new schema version appends one migration, never edits one.
MIGRATIONS: tuple[tuple[int, str], ...] = ((1, _V1), (2, _V2), (3, _V3), (4, _V4))


def grants(appender: str = "sdl_appender", reader: str = "sdl_reader") -> str:
    """The least-privilege GRANTs (run by the ledger's owner) of docs/concepts/ledger.md."""
    return (
        f"GRANT USAGE ON SCHEMA sdl_tracker TO {appender}, {reader};\n"
        f"GRANT SELECT ON ALL TABLES IN SCHEMA sdl_tracker TO {appender}, {reader};\n"
        f"GRANT INSERT ON sdl_tracker.entries, sdl_tracker.objects TO {appender};\n"
        f"GRANT INSERT ON sdl_tracker.refusals TO {appender}, {reader};\n"
        f"GRANT UPDATE (seq, hash) ON sdl_tracker.heads TO {appender};\n"
    )


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    url = re.sub(r"(?i)(password=)[^&\s]*", r"\1***", url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def connect(url: str) -> psycopg.Connection[Any]:
    """An autocommit connection, or LedgerError saying what to check."""
    try:
        import psycopg
    except ImportError as e:
        raise LedgerError(
            "PostgreSQL ledgers need psycopg 3: install it with "
            "`pip install 'sdl-tracker[postgres]'`"
        ) from e
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = conninfo_to_dict(url)
    except psycopg.Error as e:
        raise LedgerError(
            f"{redact(url)}: not a valid PostgreSQL URL ({_first_line(e)}); expected "
            "postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME"
        ) from e
    extra: dict[str, str | int] = {"connect_timeout": 10, "application_name": "sdl-tracker"}
    try:
        return psycopg.connect(
            make_conninfo(url, **{k: v for k, v in extra.items() if k not in params}),
            autocommit=True,
        )
    except psycopg.Error as e:
        raise LedgerError(
            f"cannot connect to the PostgreSQL ledger {redact(url)}: {_first_line(e)} — "
            + _connect_hint(str(e))
        ) from e


def _connect_hint(message: str) -> str:
    if "authentication" in message or "no password" in message or "role" in message:
        return (
            "Check the user name and password (in the URL, PGPASSWORD or ~/.pgpass) given by "
            "--ledger, SDL_TRACKER_LEDGER or [ledger] url"
        )
    if "database" in message and "does not exist" in message:
        return "Create the database (createdb) or fix its name in the URL"
    return (
        "Check that the server is running and reachable at that host and port (or socket "
        "directory), then run the command again; nothing was written"
    )


def _first_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text.removeprefix("connection failed: ") or type(e).__name__


def installed(conn: psycopg.Connection[Any], location: str) -> int | None:
    """The schema version in the database (None: no ledger schema); LedgerError if newer."""
    row = conn.execute("SELECT to_regclass('sdl_tracker.schema_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    found = conn.execute("SELECT max(version) FROM sdl_tracker.schema_version").fetchone()
    version = int(found[0]) if found and found[0] is not None else 0
    if version > VERSION:
        raise LedgerError(
            f"{location}: the ledger schema is version {version}, written by a newer "
            f"sdl-tracker (this one, {__version__}, knows up to version {VERSION}); upgrade: "
            "pip install --upgrade sdl-tracker"
        )
    return version


def migrate(conn: psycopg.Connection[Any], location: str) -> int:
    """Create or upgrade the schema to VERSION in one transaction; the version before."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        before = installed(conn, location) or 0
        for version, sql in MIGRATIONS:
            if version > before:
                conn.execute(sql.encode())
                conn.execute(
                    "INSERT INTO sdl_tracker.schema_version (version, tool_version) "
                    "VALUES (%s, %s)",
                    (version, __version__),
                )
    return before
