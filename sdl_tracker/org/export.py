"""`org export`: the organisation view as a deterministic zip for the assessor.

    org-status.json                          the `org status --format json` document
    index.html                               a self-contained summary (no external resources)
    repositories/<name>/verdict-entry.jsonl  the bytes of the chain's chosen gate verdict entry
    repositories/<name>/head.json            the chain's head (seq, hash) when the report was made
    MANIFEST.json                            sha256 and size of every other file

The same ledger and the same moment give the same bytes: the single-repository export's
deterministic zip (`exporters.package.archive`: sorted names, fixed timestamps and permissions).
The page reuses that export's stylesheet, inline, under the same kind of Content-Security-Policy
(nothing loads, no script runs). `<name>` is the repository name percent-encoded (no `/`, no
`..`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from importlib import resources
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from sdl_tracker import __version__
from sdl_tracker.conformance.model import Status
from sdl_tracker.formats import text as safe_text
from sdl_tracker.models import JSON, format_time
from sdl_tracker.org import render as orgrender
from sdl_tracker.org.pgorg import ChainFacts
from sdl_tracker.org.status import NOTE, OrgStatus, Row

FORMAT = "sdl-tracker-org-export/1"
#: Beyond the single-repository report's stylesheet: right-aligned numbers, muted states.
_CSS = "\ntd.num { text-align: right; }\n.verdict.unreadable { background: #ad1457; }\n"


def build(status: OrgStatus, facts: Iterable[ChainFacts]) -> bytes:
    """The zip's bytes."""
    files: dict[str, bytes] = {
        "org-status.json": _json(status.to_json()),
        "index.html": html(status).encode("utf-8"),
    }
    for f in facts:
        folder = f"repositories/{directory(f.repo)}"
        files[f"{folder}/head.json"] = _json(
            {
                "repository": f.repo,
                "seq": f.head.seq if f.head else 0,
                "hash": f.head.hash if f.head else None,
                "verdict_seq": f.verdict.seq if f.verdict else None,
                "verdict_hash": f.verdict.hash if f.verdict else None,
            }
        )
        if f.verdict is not None:
            files[f"{folder}/verdict-entry.jsonl"] = f.verdict.raw + b"\n"
    files["MANIFEST.json"] = _json(_manifest(status, files))
    from sdl_tracker.exporters.package import archive

    return archive(files)


def directory(repo: str) -> str:
    """A repository name as one safe, reversible path component."""
    return quote(repo, safe="@+")


def _manifest(status: OrgStatus, files: Mapping[str, bytes]) -> dict[str, JSON]:
    return {
        "format": FORMAT,
        "ledger": status.ledger,
        "generated_at": format_time(status.generated_at),
        "repositories": len(status.rows),
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in sorted(files.items())
        },
    }


def _json(data: JSON) -> bytes:
    dumped = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
    return (safe_text.json_document(dumped) + "\n").encode()


def html(status: OrgStatus) -> str:
    """index.html: the table, the expiring waivers and problems, how to cross-check."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sdl_tracker.exporters", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        finalize=safe_text.markup,
    )
    totals = status.to_json()["totals"]
    css = (resources.files("sdl_tracker.exporters") / "templates" / "report.css").read_text(
        "utf-8"
    ) + _CSS
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    return env.get_template("org-index.html.j2").render(
        css=Markup(css),
        csp=csp,
        generator=f"sdl-tracker {__version__}",
        status=status,
        generated=format_time(status.generated_at),
        totals=totals,
        rows=[_view(status, row) for row in status.rows],
        notes=orgrender.notes(status),
        note=NOTE,
    )


def _view(status: OrgStatus, row: Row) -> dict[str, object]:
    stale, incomplete = row.count(Status.STALE), row.count(Status.INCOMPLETE)
    undemonstrated = row.count(Status.NOT_DEMONSTRATED)
    return {
        "repo": row.repo,
        "state": row.state,
        "css": "unreadable"
        if row.state in ("diverged", "bad signatures")
        else row.state
        if row.state in ("passed", "failed", "unreadable")
        else "",
        "gated": orgrender.gated(row),
        "levels": [orgrender.ml(row, p) for p in status.practices],
        "stale": "-" if stale is None else stale,
        "incomplete": "-" if incomplete is None else incomplete,
        "not_demonstrated": "-" if undemonstrated is None else undemonstrated,
        "expiring": len(row.expiring),
        "last_activity": format_time(row.last_activity) if row.last_activity else "-",
        "entries": row.entries,
        "head": row.head or "-",
    }
