"""Where a worker finds each tool: an explicit setting (ENGINE_BINARIES), else the project's own tool folder
(var/tools/bin, where `make` installs scanners whose dependencies would clash with the web app's, each in its
own virtualenv), else PATH. None when the tool is not installed here."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

TOOLS_BIN = Path(__file__).resolve().parent.parent / "var" / "tools" / "bin"


def resolve_binary(name: str, configured: dict[str, str] | None = None) -> str | None:
    explicit = (configured or {}).get(name)
    if explicit:
        return explicit if (os.path.isabs(explicit) and os.access(explicit, os.X_OK)) else shutil.which(explicit)
    local = TOOLS_BIN / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)
