from __future__ import annotations

from sdl_tracker.main import main

raise SystemExit(main())
