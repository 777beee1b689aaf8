"""Exporters: conformance verdicts rendered for other tools (explicit registry)."""

from __future__ import annotations

from sdl_tracker.exporters import html, junit, markdown, oscal, sarif
from sdl_tracker.exporters import json as json_view
from sdl_tracker.exporters.base import Exporter, Report

EXPORTERS: dict[str, Exporter] = {
    "html": html,
    "json": json_view,
    "junit": junit,
    "markdown": markdown,
    "oscal": oscal,
    "sarif": sarif,
}

__all__ = ["EXPORTERS", "Exporter", "Report"]
