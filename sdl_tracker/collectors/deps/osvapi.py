"""The OSV server pip-audit audited against: fetch the records it reported, for their severity.

pip-audit's JSON report keeps a vulnerability's id, aliases, fixes and description but drops the
record's `severity`. With `--osv-url <base>/v1/query` the same server answers
`GET <base>/v1/vulns/<id>` (the OSV API); only that server is asked, with the audit's timeout.
A record that cannot be fetched or read gives an unknown severity saying why — the audit's
verdict does not depend on it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from packaging.utils import canonicalize_name

from sdl_tracker.collectors.deps import osv
from sdl_tracker.collectors.deps.pipaudit import Dependency, Report, Vuln, rated
from sdl_tracker.collectors.deps.severity import Severity, unknown
from sdl_tracker.errors import SdlError
from sdl_tracker.formats import bounded, limits

_MAX_IDS = 500  # records fetched for one audit; beyond that the severity is left unknown


@dataclass(frozen=True)
class Fetched:
    """The records fetched (raw JSON by id, for the evidence) and why others were not."""

    records: dict[str, Any]
    problems: dict[str, str]

    def to_json(self) -> bytes:
        return json.dumps(self.records, indent=1, sort_keys=True).encode()


def record_url(query_url: str, vid: str) -> str | None:
    """`<base>/v1/vulns/<id>` for a query endpoint `<base>/v1/query` (None for another URL)."""
    base, sep, last = query_url.rstrip("/").rpartition("/")
    if not sep or last != "query":
        return None
    return f"{base}/vulns/{quote(vid, safe='')}"


def fetch(query_url: str, ids: Iterable[str], timeout: int) -> Fetched:
    records: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for n, vid in enumerate(sorted(set(ids))):
        url = record_url(query_url, vid)
        if url is None:
            problems[vid] = f"no record URL can be derived from {query_url} (expected …/v1/query)"
        elif n >= _MAX_IDS:
            problems[vid] = f"more than {_MAX_IDS} vulnerabilities: records not fetched"
        else:
            found = _get(url, timeout)
            if isinstance(found, str):
                problems[vid] = found
            else:
                records[vid] = found
    return Fetched(records, problems)


def _get(url: str, timeout: int) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the configured OSV server
            data = response.read(limits.current().size("advisory") + 1)
        return bounded.json_loads(data, url, "advisory")
    except urllib.error.HTTPError as e:
        return f"{url} answered HTTP {e.code}"
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        return f"{url} could not be fetched ({getattr(e, 'reason', e)})"
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return f"{url} did not return JSON ({e})"
    except SdlError as e:  # a size or depth limit
        return f"{url}: {e}"


def rate(report: Report, fetched: Fetched, where: str) -> Report:
    """The report with each vulnerability's severity from its fetched record."""

    def severity(d: Dependency, v: Vuln) -> Severity:
        if v.id in fetched.problems:
            return unknown(f"OSV record {v.id}: {fetched.problems[v.id]}")
        try:
            record = osv.from_json(fetched.records.get(v.id), f"{where} {v.id}")
        except SdlError as e:
            return unknown(f"OSV record {v.id} from {where} cannot be read: {e}")
        return record.severity_of(canonicalize_name(d.name), where)

    return rated(report, severity)
