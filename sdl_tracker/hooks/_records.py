"""Frozen records the hooks share (kept apart: `dataclasses` is not imported on a no-op path)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_RELEASE_TAGS = "v*"
DEFAULT_SBOM = "sbom.cdx.json"


@dataclass(frozen=True)
class HookSettings:
    """The validated `[hooks]` table of the configuration."""

    security_critical_paths: tuple[str, ...] = ()
    """Globs of paths whose changes need a review trailer (sdl-commit-msg)."""
    release_tags: str = DEFAULT_RELEASE_TAGS
    """Glob of the tag names that are releases (sdl-gate)."""
    sbom: str = DEFAULT_SBOM
    """The committed SBOM, repository-relative (sdl-sbom)."""


@dataclass(frozen=True)
class Unmodelled:
    """Files owned by a threat model's components, staged while the model itself is not."""

    model: str
    files: tuple[str, ...]
