"""CPU use from /proc: wait until a server idles between scenarios; how busy the machine is."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        with contextlib.suppress(OSError):
            queue.extend(
                int(child) for child in Path(f"/proc/{current}/task/{current}/children").read_text().split()
            )
    return pids


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def machine_busy(interval: float = 0.5) -> float:
    """Percent of all CPUs busy over ``interval``: whatever else runs on the machine."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return sum(values), values[3] + values[4]  # idle + iowait

    try:
        total1, idle1 = sample()
        time.sleep(interval)
        total2, idle2 = sample()
    except (OSError, IndexError, ValueError):
        return 0.0
    return 100.0 * (1 - (idle2 - idle1) / max(total2 - total1, 1))


def wait_quiet(pid: int | None, *, timeout: float = 60.0) -> None:
    """Wait until a server's processes idle: requests wrk left queued must not spill over."""
    if pid is None:
        return
    deadline, calm = time.monotonic() + timeout, 0
    while calm < 2 and time.monotonic() < deadline:
        pids = process_tree(pid)
        before = cpu_ticks(pids)
        time.sleep(0.4)
        calm = calm + 1 if (cpu_ticks(pids) - before) / TICKS / 0.4 < 0.05 else 0
