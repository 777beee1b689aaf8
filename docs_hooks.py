"""MkDocs hook: links from a page to repository files outside `docs/`.

The pages are also read on GitHub, where `[SECURITY.md](../SECURITY.md)` opens the file. The
site holds only `docs/`, so such a link would point nowhere: when its target exists in the
repository the link becomes its text; when it does not, it is left alone and MkDocs reports it
(a failure under `mkdocs build --strict`).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s#]+)(#[^)\s]*)?\)")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    docs = Path(config["docs_dir"]).resolve()
    root = Path(config["config_file_path"]).resolve().parent
    here = posixpath.dirname(page.file.src_uri)

    def unlink(match: re.Match[str]) -> str:
        text, target = match.group(1), match.group(2)
        if "://" in target or target.startswith(("/", "mailto:")):
            return match.group(0)
        path = (docs / posixpath.normpath(posixpath.join(here, target))).resolve()
        if path.is_relative_to(docs) or not path.is_relative_to(root) or not path.exists():
            return match.group(0)
        return text

    return _LINK.sub(unlink, markdown)
