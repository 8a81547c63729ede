"""Child processes of a bench run: started in their own sessions, all stopped at the end."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.console import log


class Processes:
    """Children in sessions of their own, so that a whole tree (gunicorn and its workers,
    bash, npm and node) stops with one signal to its process group."""

    def __init__(self) -> None:
        self.started: list[tuple[str, subprocess.Popen]] = []
        self.lock = threading.Lock()

    def _track(self, name: str, process: subprocess.Popen) -> None:
        with self.lock:
            self.started.append((name, process))

    def _forget(self, process: subprocess.Popen) -> None:
        with self.lock:
            self.started = [(n, p) for n, p in self.started if p is not process]

    def start(self, name: str, command: list[str], *, log_path: Path, **kwargs: Any) -> subprocess.Popen:
        with log_path.open("ab") as handle:
            process = subprocess.Popen(  # noqa: S603 - fixed commands, no shell
                command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
            )
        self._track(name, process)
        return process

    def run(self, name: str, command: list[str], *, timeout: float, **kwargs: Any) -> tuple[int, str]:
        """A short-lived child (wrk, a data step): its output; stopped with us if need be."""
        process = subprocess.Popen(  # noqa: S603 - fixed commands, no shell
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            **kwargs,
        )
        self._track(name, process)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(process)
            output = (process.communicate()[0] or "") + f"\n(stopped after {timeout:.0f} s)"
            return -1, output
        except BaseException:
            self.stop(process)
            raise
        finally:
            self._forget(process)
        return process.returncode, output

    @staticmethod
    def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
        if process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)  # its own group: started with start_new_session
            try:
                process.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def stop_all(self) -> None:
        with self.lock:
            started, self.started = list(reversed(self.started)), []
        for name, process in started:
            if process.poll() is None:
                log(f"stopping {name} (pid {process.pid})")
            self.stop(process)


def raise_on_signal(signum: int, frame: Any) -> None:
    """Turn SIGINT/SIGTERM/SIGHUP into KeyboardInterrupt, so that `finally` stops the children."""
    raise KeyboardInterrupt(f"signal {signum}")


def wait_for(check: Callable[[], bool], *, timeout: float, process: subprocess.Popen | None = None) -> bool:
    """Poll ``check`` until it holds; False on timeout or when ``process`` has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        with contextlib.suppress(OSError, http.client.HTTPException):
            if check():
                return True
        time.sleep(0.25)
    return False


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
