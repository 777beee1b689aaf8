"""Exporters: conformance verdicts rendered for other tools (explicit registry)."""

from __future__ import annotations

from sdl_tracker.exporters import junit, markdown
from sdl_tracker.exporters.base import Exporter, Report

EXPORTERS: dict[str, Exporter] = {
    "junit": junit,
    "markdown": markdown,
}

__all__ = ["EXPORTERS", "Exporter", "Report"]
