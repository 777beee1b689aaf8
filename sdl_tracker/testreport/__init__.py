"""Test results: JUnit XML parsing and the traceability matrix built from it."""

from __future__ import annotations
