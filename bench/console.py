"""Progress lines on stdout, stamped with the seconds since the run began."""

from __future__ import annotations

import time

T0 = time.monotonic()


def log(message: str = "") -> None:
    # flush: `make bench` pipes stdout, and progress must show while wrk runs.
    print(f"[{time.monotonic() - T0:4.0f}s] {message}" if message else "", flush=True)
