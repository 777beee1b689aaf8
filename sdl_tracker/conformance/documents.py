"""How a document counts for one requirement: its sections and its review cadence (pure).

The documents collector records, for each document, the sections its kind requires (and which
requirements need each), its last change in git with that change's date, whether the change was
reviewed, and whether a change touched it since the previous release. Here, for requirement R:

- a document that is not committed, or whose last change was not reviewed, fails;
- its age is that of its last change in git, never the ledger entry's: recording it again
  (`collect --force`) does not make it younger. A change dated in the future is incomplete;
- the kind's cadence (the catalogue's `documents`) sets the age rule: `annual` at most 365 days
  (or the rule's `max_age_days`), `per_release` a change since the previous release (and the
  rule's `max_age_days` if it sets one), `on_change` only the rule's `max_age_days`;
- sections R needs that are missing make it partial, naming them; sections only other
  requirements need do not count against R.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sdl_tracker.conformance.findings import Verdict
from sdl_tracker.conformance.model import Status
from sdl_tracker.models import Predicate
from sdl_tracker.policy.catalog import DocumentKind

ANNUAL_DAYS = 365


@dataclass(frozen=True)
class Current:
    """The document counts for the requirement; its age is that of its last change."""

    age: timedelta


def is_document(p: Predicate) -> bool:
    """Whether the entry is a documents-collector check that carries its sections and dates."""
    return isinstance(p.details.get("sections"), list) and "changed_at" in p.details


def judge(
    p: Predicate,
    rid: str,
    kind: DocumentKind | None,
    now: datetime,
    max_age_days: int | None,
    releases_since: tuple[str, ...] = (),
) -> Verdict | Current:
    """Whether the document `p` describes counts for `rid` at `now`, and why not.

    `releases_since`: release tags made after the commit the document was checked on, in the
    history of the evaluated commit (its last change is older than all of them).
    """
    problems = [str(x) for x in _list(p.details.get("problems")) if x]
    if problems:
        return Verdict(Status.FAILING, "; ".join(problems))
    changed = _date(p.details.get("changed_at"))
    if changed is None:
        return Verdict(Status.INCOMPLETE, "the date of its last change is not recorded")
    age = now - changed
    if age < -timedelta(minutes=5):
        return Verdict(
            Status.INCOMPLETE,
            f"its last change is dated {changed.isoformat()}, in the future: check the "
            "committer's clock, then commit a reviewed change",
        )
    cadence = kind.cadence if kind else "annual"
    limit = max_age_days if cadence != "annual" else (max_age_days or ANNUAL_DAYS)
    if limit is not None and age > timedelta(days=limit):
        return Verdict(
            Status.STALE,
            f"last changed {age.days} days ago, on {changed.date()} (max {limit} days, "
            f"cadence {cadence}): review it and commit the reviewed change",
        )
    if cadence == "per_release" and releases_since:
        return Verdict(
            Status.STALE,
            f"not reviewed for this release: its last change ({changed.date()}) is older than "
            f"release {releases_since[-1]}, and its cadence is per release: review it and commit "
            "the reviewed change (even a 'Reviewed for <release>' line)",
        )
    release = p.details.get("previous_release")
    if cadence == "per_release" and isinstance(release, dict) and not release.get("changed_since"):
        return Verdict(
            Status.STALE,
            f"not reviewed for this release: its last change ({changed.date()}) is already in "
            f"{release.get('tag')}, and its cadence is per release: review it and commit the "
            "reviewed change (even a 'Reviewed for <release>' line)",
        )
    missing = _missing(p, rid)
    if missing:
        return Verdict(Status.PARTIAL, f"missing section(s) {rid} needs: {', '.join(missing)}")
    return Current(age)


def _missing(p: Predicate, rid: str) -> list[str]:
    found = []
    for s in _list(p.details.get("sections")):
        if not isinstance(s, dict) or s.get("found"):
            continue
        needs = s.get("requirements")
        if not isinstance(needs, list) or not needs or rid in needs:
            found.append(str(s.get("heading")))
    return found


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
