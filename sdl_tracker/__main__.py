from __future__ import annotations

from sdl_tracker.cli.main import main

raise SystemExit(main())
