"""kvgraph server processes for the tests and benchmarks that need real processes: started
with `python -m gql serve` on a free port, stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret-0123456789-0123456789-abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One `python -m gql serve` process (or supervisor of workers)."""

    def __init__(self, cwd: Path, store_url: str, table: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("KVGRAPH_")}
        environ |= {
            "PYTHONPATH": str(ROOT),
            "KVGRAPH_STORE_URL": store_url,
            "KVGRAPH_KV_TABLE": table,
            "KVGRAPH_JWT_SECRET": SECRET,
            "KVGRAPH_PORT": str(self.port),
            "KVGRAPH_ACCESS_LOG": "false",
            **env,
        }
        self.log = (cwd / f"server-{self.port}.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gql", "serve"],
            cwd=cwd,
            env=environ,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.wait_until_up()

    def wait_until_up(self) -> None:
        """Poll /readyz until the server answers (60 s at most)."""
        for _ in range(300):
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.output()}")
            try:
                urllib.request.urlopen(f"{self.url}/readyz", timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"server never answered: {self.output()}")

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()

    def pids(self) -> list[int]:
        """The server's process and its workers."""
        found = [self.proc.pid]
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        if children.exists():
            found += [int(pid) for pid in children.read_text().split()]
        return found

    def rss(self) -> int:
        """Resident memory of the server's processes, in bytes."""
        total = 0
        for pid in self.pids():
            status = Path(f"/proc/{pid}/status").read_text()
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        return total

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.log.close()
        return code
