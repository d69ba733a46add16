"""Servers under load, as subprocesses: started on a free port, awaited, stopped, metered.

Both the ceiling and occur run as their own processes, as users run occur, so that the
bench measures the server a user gets (its event loop, its GIL, its writer thread) and
the load generator never shares an interpreter with it.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 30
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server subprocess on 127.0.0.1:port, its output in a log file."""

    def __init__(self, args: list[str], env: Mapping[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, *args, str(self.port)],
                cwd=ROOT,
                env=dict(env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_answering()
        except BaseException:
            self.stop()
            raise

    def _wait_answering(self) -> None:
        """Until any HTTP answer comes back (a 404 from GET / will do)."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log.read_text()[-3000:]}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                connection.request("GET", "/")
                connection.getresponse().read()
                return
            except OSError:
                time.sleep(0.1)
            finally:
                connection.close()
        raise RuntimeError(f"server did not answer:\n{self.log.read_text()[-3000:]}")

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Ask it to stop (occur stores what it queued first); kill it after 15 s."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def cpu_seconds(self) -> float:
        """CPU the server process has used so far, all its threads together."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy so far, summed over its cores."""
    # user nice system idle iowait irq softirq steal (guest time is counted in user too)
    ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / _TICKS


@dataclass
class CpuShare:
    """CPU used over measured windows, in cores (1.0: one core busy throughout)."""

    server_cores: float = 0.0
    machine_cores: float = 0.0  # everything: server, generator, PostgreSQL, neighbours
    cores: int = os.cpu_count() or 1


class CpuMeter:
    """Reads the server's and the machine's CPU clocks at each window's start and end.

    Windows add up, so one meter serves every round of a measure.
    """

    def __init__(self, server: Server) -> None:
        self._server = server
        self._start = (0.0, 0.0, 0.0)
        self._totals = [0.0, 0.0, 0.0]  # wall, server CPU, machine busy

    def _now(self) -> tuple[float, float, float]:
        return time.perf_counter(), self._server.cpu_seconds(), machine_busy_seconds()

    def start(self) -> None:
        self._start = self._now()

    def stop(self) -> None:
        for i, (before, after) in enumerate(zip(self._start, self._now(), strict=True)):
            self._totals[i] += after - before

    @property
    def share(self) -> CpuShare:
        wall, server, busy = self._totals
        if not wall:
            return CpuShare()
        return CpuShare(server_cores=server / wall, machine_cores=busy / wall)
