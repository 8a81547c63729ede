"""The state file: tokens, the ID token and the DPoP key, readable by its owner only (0600).

A native app keeps its refresh token in the platform's protected storage (the Keychain, the
Android Keystore); on a workstation that is a file only its owner can read, written whole
(a temporary file renamed over the old one) so that a crash never leaves half a token.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path("~/.config/abc-timesheets/tokens.json")


class StateError(Exception):
    """The state file is missing, unreadable, or readable by others."""


def state_load(path: Path) -> dict[str, Any] | None:
    """The saved state, or None when there is no file. A file that group or others can read
    is refused: its tokens may have been copied, so the person signs in again."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise StateError(
            f"{path} can be read by other users (mode {stat.S_IMODE(mode):o}): delete it and sign in again."
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise StateError(f"{path} is not a state file this tool wrote: {error}") from error
    if not isinstance(data, dict):
        raise StateError(f"{path} is not a state file this tool wrote.")
    return data


def state_save(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` with mode 0600, in a directory only the owner can enter."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            json.dump(data, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)  # umask may have narrowed it; it can never have widened it
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def state_delete(path: Path) -> bool:
    """Forget everything; whether there was anything to forget."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
