"""The collector registry: name -> module satisfying `collectors.base.Collector`.

`COLLECTORS` is built on first use (PEP 562), so that importing one collector module — a hook
reuses `collectors.secrets` or `collectors.sast.bandit` — does not import them all (~100 ms).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sdl_tracker.collectors.base import Collector


def __getattr__(name: str) -> dict[str, Collector]:
    if name != "COLLECTORS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from sdl_tracker.collectors import (
        deps,
        documents,
        fuzzing,
        issues,
        releases,
        review,
        sast,
        sbom,
        secrets,
        signatures,
        support_period,
        tests,
        threat_model,
    )

    COLLECTORS: dict[str, Collector] = {
        "deps": deps,
        "documents": documents,
        "fuzzing": fuzzing,
        "issues": issues,
        "releases": releases,
        "review": review,
        "sast": sast,
        "sbom": sbom,
        "secrets": secrets,
        "signatures": signatures,
        "support-period": support_period,
        "tests": tests,
        "threat-model": threat_model,
    }
    return COLLECTORS
