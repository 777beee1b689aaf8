"""A chain's signatures as `ledger verify` judges them, for the organisation view (pure).

The central ledger holds no roster: whoever runs `org status` names, per chain, the repository
(or its `sdl-roster.yaml`) whose roster the checkpoints and attestation signatures are checked
against (`--roster NAME=PATH`). A chain without one is said to be unchecked, never passed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sdl_tracker.models import JSON

VERIFIED = "verified"
FAILED = "failed"
NOT_CHECKED = "not checked"
HOW = (
    "name each one's roster: `org status --roster NAME=PATH` (a checkout of the repository, or "
    "its roster file)"
)


@dataclass(frozen=True)
class Signatures:
    """What `ledger verify` found for one chain against its repository's roster."""

    roster: str | None
    """Where the roster came from (`sdl-roster.yaml at 3f2a9c1e07`); None: not checked."""
    checkpoints: int = 0
    """Checkpoints whose signature verified."""
    attestations: int = 0
    """People's statements whose signature verified."""
    unsigned: int = 0
    """People's statements without a signature."""
    problems: tuple[str, ...] = ()
    """What makes `ledger verify` fail, one sentence each."""
    approvals: tuple[tuple[int, str, str], ...] = ()
    """Each waiver's (entry, approver, why not) against the roster: the approver whose signature
    approves it, or '' and why none does."""

    @property
    def state(self) -> str:
        """verified | failed | not checked."""
        if self.roster is None:
            return NOT_CHECKED
        return FAILED if self.problems else VERIFIED

    def to_json(self) -> dict[str, JSON]:
        return {
            "state": self.state,
            "roster": self.roster,
            "checkpoints_verified": self.checkpoints,
            "attestations_verified": self.attestations,
            "attestations_unsigned": self.unsigned,
            "problems": list(self.problems),
        }


UNCHECKED = Signatures(roster=None)
