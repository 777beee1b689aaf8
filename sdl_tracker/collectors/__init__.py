"""The collector registry: name -> module satisfying `collectors.base.Collector`."""

from __future__ import annotations

from sdl_tracker.collectors.base import Collector

COLLECTORS: dict[str, Collector] = {}
