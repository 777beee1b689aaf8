"""Every status has its place in every view that enumerates statuses."""

from __future__ import annotations

from importlib import resources

import pytest

from sdl_tracker.conformance import render
from sdl_tracker.conformance.model import SEVERITY, Status
from sdl_tracker.exporters import html

# The status styles are generated from html.STYLES beside the hand-written stylesheet.
CSS = (
    resources.files("sdl_tracker.exporters") / "templates" / "report.css"
).read_text() + html.status_css()


@pytest.mark.parametrize("status", list(Status))
def test_every_status_is_shown_everywhere(status: Status) -> None:
    assert status in SEVERITY  # the ratchet's order
    assert status in render.LABELS  # status / explain / gate lines
    assert status in html.COLORS  # the report's chart
    assert status in html.STYLES  # its hue and icon
    assert f".st-{status.value} " in CSS and f"tr.row-{status.value} " in CSS


def test_not_demonstrated_fails_the_gate() -> None:
    assert not Status.NOT_DEMONSTRATED.passes
    order = [s.value for s in SEVERITY]
    assert order.index("missing") < order.index("not_demonstrated") < order.index("stale")
