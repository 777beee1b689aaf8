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
