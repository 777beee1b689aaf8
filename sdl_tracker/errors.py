"""Errors a user can act on. `cli/main.py` catches them once and exits 2 (1 for failed checks)."""

from __future__ import annotations


class SdlError(Exception):
    """An error the user can act on: bad input, configuration, or environment."""

    exit_code = 2

    def diagnostics(self) -> str:
        return str(self)


class ConfigError(SdlError):
    """The project configuration is missing or invalid."""


class CatalogError(SdlError):
    """A requirement catalogue is missing or invalid."""


class GitError(SdlError):
    """git failed or the directory is not a git repository."""


class InputError(SdlError):
    """A file given to the tool (report, model, SBOM, ...) could not be read or parsed."""


class LedgerError(SdlError):
    """The ledger cannot be read or written (missing, unreadable, not a ledger)."""


class ChainError(LedgerError):
    """The ledger's hash chain or an artifact does not verify (tampering or corruption)."""

    exit_code = 1

    def __init__(self, seq: int, where: str, reason: str) -> None:
        self.seq = seq
        self.where = where
        self.reason = reason
        super().__init__(f"entry {seq} ({where}): {reason}")


class HeadMoved(LedgerError):
    """Another writer appended first: the compare-and-swap on the ledger head failed."""


class PolicyError(SdlError):
    """A policy file is invalid."""


class CollectorError(SdlError):
    """A collector could not produce its evidence from the input it was given."""


class UnverifiedLedger(LedgerError):
    """A command that judges or writes refused a ledger whose chain does not verify."""

    def __init__(self, location: str, cause: ChainError) -> None:
        self.seq = cause.seq
        self.where = cause.where
        self.reason = cause.reason
        super().__init__(
            f"the ledger at {location} does not verify: entry {cause.seq} ({cause.where}): "
            f"{cause.reason}. Nothing was judged or appended; run `sdl-tracker ledger verify` "
            "for the full check"
        )


class HistoryError(ChainError):
    """A commit of the ledger branch changed or removed what an earlier commit added."""

    def __init__(self, seq: int, commit: str, path: str, change: str) -> None:
        super().__init__(
            seq,
            f"commit {commit}",
            f"{path} was {change} (the ledger branch's history must only add entry and "
            "object files: this is tampering, or a branch rewritten outside sdl-tracker)",
        )
        self.commit = commit
        self.path = path
