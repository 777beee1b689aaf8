"""Who said so: the roster of the evaluated commit, and every signature checked against it (edge).

Runs git (the roster as committed at the commit, `.mailmap`) and the signature verifiers
(`ssh-keygen -Y verify`, Ed25519, `gpg --verify`); `evaluate()` gets the results as plain data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sdl_tracker.conformance import checkpoints, signatures
from sdl_tracker.conformance.evidence import Record
from sdl_tracker.conformance.waivers import KIND as WAIVER
from sdl_tracker.conformance.waivers import NOT_SIGNED, Approval, email
from sdl_tracker.formats import roster as roster_mod
from sdl_tracker.formats.roster import Roster
from sdl_tracker.gitdata import attest, git, history

_PLUS = re.compile(r"\+[^@]*@")
NO_REQUESTER = (
    "the waiver names no requester as 'Name <email>', so no signature can be shown to come from "
    "someone else: ask for it again with `sdl-tracker waive`"
)
UNSIGNED_REQUEST = (
    "the request is not signed by its requester ({requester}) with a key in {roster}, so "
    "nothing shows who asked for it"
)
ASK_AGAIN = (
    "the requester (listed with a key in sdl-roster.yaml) asks again, signing with their own "
    "key: `sdl-tracker waive {target} --reason … --expires … --approver … --key KEY`"
)


@dataclass(frozen=True)
class Trust:
    """The roster at the evaluated commit and the verdict on every signature in the ledger."""

    roster: Roster | None
    report: signatures.Report
    mailmap: dict[str, str] = field(default_factory=dict)
    """Lower-cased e-mail → its `.mailmap` canonical e-mail (where they differ)."""
    authors: frozenset[str] = frozenset()
    """Folded e-mails of the authors of the release range (since the previous tag)."""

    @property
    def signers(self) -> dict[int, tuple[signatures.Signer, ...]]:
        """For each signed entry, who signed it: roles, and whether they authored the release."""
        found: dict[int, list[signatures.Signer]] = {}
        for c in self.report.checked:
            if not c.good or c.target is None or c.signer is None:
                continue
            mine = frozenset().union(*(self.identities(e) for e in c.emails))
            signer = signatures.Signer(c.signer, c.roles, authored=bool(mine & self.authors))
            found.setdefault(c.target, []).append(signer)
        return {seq: tuple(found_) for seq, found_ in found.items()}

    def identities(self, email: str) -> frozenset[str]:
        """Every e-mail that names the same person: roster, `.mailmap`, `+tag` addresses folded."""
        found = {fold(email)}
        found.add(fold(self.mailmap.get(email.lower(), email)))
        if self.roster is not None:
            for e in list(found):
                person = self.roster.by_email(e)
                if person is not None:
                    found.update(fold(x) for x in person.emails)
                    found.update(fold(self.mailmap.get(x, x)) for x in person.emails)
        return frozenset(found)


def fold(email: str) -> str:
    """Lower-cased, with a `+tag` sub-address removed (`ada+x@example.com` is ada)."""
    return _PLUS.sub("@", email.strip().lower())


def read_roster(root: Path, commit: str) -> Roster | None:
    """`sdl-roster.yaml` as committed at `commit`, or None when it has none."""
    done = git.run(root, "show", f"{commit}:{roster_mod.FILE}", check=False)
    if done.returncode != 0:
        return None
    text = done.stdout.decode("utf-8", "replace")
    return roster_mod.parse(text, f"{roster_mod.FILE} at {commit[:10]}")


def gather(root: Path, commit: str, records: Iterable[Record], others: Iterable[str] = ()) -> Trust:
    """Check every signature entry against the roster of `commit` (`others`: more identities,
    `Name <email>`, whose `.mailmap` addresses to read)."""
    recs = tuple(records)
    roster = read_roster(root, commit)
    return Trust(
        roster=roster,
        report=check(recs, roster),
        mailmap=read_mailmap(root, roster, recs, others),
        authors=release_authors(root, commit),
    )


def read_mailmap(
    root: Path, roster: Roster | None, records: Iterable[Record], others: Iterable[str] = ()
) -> dict[str, str]:
    """Lower-cased e-mail → its `.mailmap` canonical e-mail (where they differ) in the
    repository at `root`, for the roster's people, `others` and every waiver's requester and
    approver."""
    emails = {e for p in (roster.people if roster else ()) for e in p.emails}
    emails |= {e for e in map(email, others) if e}
    emails |= {
        e
        for r in records
        if r.statement.predicate.kind == "waiver"
        for e in _emails(r.statement.predicate.details)
    }
    mapped = history.mailmap(root, sorted(emails)) if emails else {}
    return {k.lower(): v for k, v in mapped.items() if k.lower() != v}


def release_authors(root: Path, commit: str) -> frozenset[str]:
    """Authors (after `.mailmap`) of the commits since the previous tag, up to `commit`."""
    base = git.run(root, "describe", "--tags", "--abbrev=0", f"{commit}^", check=False)
    previous = base.stdout.decode().strip() if base.returncode == 0 else ""
    rev = f"{previous}..{commit}" if previous else commit
    done = git.run(root, "log", "--format=%aE", rev, check=False)
    return frozenset(fold(e) for e in done.stdout.decode("utf-8", "replace").split() if e)


def check(
    records: tuple[Record, ...], roster: Roster | None, marks: Iterable[Record] = ()
) -> signatures.Report:
    """Verify each signature entry; a signature needs the roster to name its key, valid when
    it was signed (`signed_between`). `marks`: checkpoint records, when `records` lacks them."""
    by_digest = signatures.targets(records)
    times = checkpoint_times([*records, *marks])
    checked = []
    for r in records:
        p = r.statement.predicate
        if p.kind != signatures.KIND:
            continue
        envelope = attest.Envelope.from_json(p.details.get("envelope"), p.details.get("method"))
        if envelope is None:
            checked.append(signatures.Checked(r.seq, None, None, why="not a DSSE envelope"))
            continue
        target = signatures.target(by_digest, envelope.digest, r.seq)
        if target is None:
            why = "it signs no statement in this ledger (altered after signing?)"
            checked.append(signatures.Checked(r.seq, None, None, why=why))
            continue
        if roster is None:
            why = f"no {roster_mod.FILE} at the evaluated commit names the signer's key"
            checked.append(signatures.Checked(r.seq, target, None, why=why))
            continue
        person, why = attest.signer(envelope, roster)
        if person is None:
            checked.append(signatures.Checked(r.seq, target, None, why=why))
            continue
        late = attest.outside_validity(envelope, roster, *signed_between(r, times))
        if late:
            checked.append(signatures.Checked(r.seq, target, None, why=late))
            continue
        checked.append(
            signatures.Checked(r.seq, target, person.identity, person.emails, person.roles)
        )
    return signatures.Report(tuple(checked))


def checkpoint_times(records: Iterable[Record]) -> tuple[tuple[int, datetime], ...]:
    """(seq, time) of every checkpoint entry, in ledger order: CI's clock at each batch."""
    return tuple(
        (r.seq, r.statement.predicate.recorded_at)
        for r in records
        if r.statement.predicate.kind == checkpoints.KIND
    )


def signed_between(
    record: Record, times: tuple[tuple[int, datetime], ...]
) -> tuple[datetime, datetime]:
    """(earliest, latest) time a signature entry can be said to have been made, for judging
    its key's roster dates. The signer chooses the time it states (`recorded_at`): it can
    backdate it, but not its place in the ledger. A checkpoint before the entry shows it was
    appended after that checkpoint's time, one after it that it was appended before. So a
    key past its `expires` cannot sign in an entry appended after a later checkpoint, and a
    key before its `not_before` cannot have signed an entry that a checkpoint already
    followed; within one stretch between checkpoints the stated time is all there is. Either
    bound counts against the signature (fail closed): an attestation signed before its key
    expired but appended after a later checkpoint no longer counts."""
    stated = record.statement.predicate.recorded_at
    floor = max((t for seq, t in times if seq < record.seq), default=None)
    ceiling = min((t for seq, t in times if seq > record.seq), default=None)
    earliest = min(stated, ceiling) if ceiling is not None else stated
    latest = max(stated, floor) if floor is not None else stated
    return earliest, latest


def approvals(trust: Trust, records: Iterable[Record]) -> dict[int, Approval]:
    """For each waiver: the roster approver whose signature approves it, or why none does.

    The requester is proved, not claimed: a good signature by the person `requested_by` names
    (a key in the roster) must sign the request. The approver must then hold the approver role
    and must not be that person under any identity the roster, `.mailmap` or a `+tag` address
    gives either of them.
    """
    return {
        r.seq: _approval(trust, r.seq, r.statement.predicate.details)
        for r in records
        if r.statement.predicate.kind == WAIVER
    }


def requests(trust: Trust, seq: int, requested_by: str) -> tuple[signatures.Checked, ...]:
    """The good signatures of the waiver in entry `seq` made by the person it names as its
    requester (`Name <email>`): the proof of who asked for it."""
    requester = email(requested_by)
    if not requester:
        return ()
    mine = trust.identities(requester)
    return tuple(c for c in trust.report.good_for(seq) if _identities(trust, c) & mine)


def _approval(trust: Trust, seq: int, details: Mapping[str, object]) -> Approval:
    requested_by = str(details.get("requested_by", ""))
    requester = email(requested_by) or ""
    if not requester:  # nobody to tell the approver apart from: fail closed
        return Approval(None, NO_REQUESTER)
    whys = [f"signature entry {c.seq} is bad: {c.why}" for c in trust.report.bad if c.target == seq]
    proof = requests(trust, seq, requested_by)
    if not proof:
        unsigned = UNSIGNED_REQUEST.format(requester=requester, roster=roster_mod.FILE)
        if trust.roster is None:
            unsigned = f"no {roster_mod.FILE} at the evaluated commit, so {unsigned}"
        step = ASK_AGAIN.format(target=details.get("target", "TARGET"))
        return Approval(None, "; ".join([unsigned, *whys]), step)
    mine = trust.identities(requester).union(*(_identities(trust, c) for c in proof))
    approver = None
    for c in trust.report.good_for(seq):
        if c == proof[0]:  # the request itself
            continue
        if _identities(trust, c) & mine:
            whys.append(f"{c.signer} signed it but is the requester ({requester})")
        elif "approver" not in c.roles:
            whys.append(f"{c.signer} signed it but does not hold the approver role")
        else:
            approver = c.signer
            break
    return Approval(approver, "; ".join(whys) or NOT_SIGNED)


def _identities(trust: Trust, checked: signatures.Checked) -> frozenset[str]:
    return frozenset().union(*(trust.identities(e) for e in checked.emails))


def _emails(details: object) -> list[str]:
    if not isinstance(details, dict):
        return []
    found = [email(str(details.get(k, ""))) for k in ("approver", "requested_by")]
    return [e for e in found if e]
