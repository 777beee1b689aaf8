"""A static-analysis report is told apart from sdl-tracker's own SARIF export."""

from __future__ import annotations

import json

import pytest

from sdl_tracker.errors import InputError
from sdl_tracker.formats import scanreport

RUN = {"tool": {"driver": {"name": "bandit", "rules": []}}, "results": []}


def _log(run: dict) -> bytes:
    return json.dumps({"version": "2.1.0", "runs": [run]}).encode()


def test_a_scanner_s_sarif_is_read() -> None:
    assert scanreport.parse(_log(RUN), "bandit.sarif").format == "sarif"


@pytest.mark.parametrize(
    "extra",
    [
        {"properties": {"sdl-tracker": {"entry": 3, "kind": "sast"}}},
        {"automationDetails": {"id": "sdl-tracker/sast/entry-3"}},
    ],
)
def test_sdl_tracker_s_own_export_is_refused(extra: dict) -> None:
    with pytest.raises(InputError, match="sdl-tracker's own SARIF export"):
        scanreport.parse(_log({**RUN, **extra}), "sdl-reports/evidence.sarif")
