"""A real Ray cluster on loopback for tests and benchmarks: a head and worker nodes, all on this machine.

Every node is a `ray start --block` process in a session of its own, so stopping the cluster ends
exactly these processes (a plain `ray stop` would end every Ray process on the machine).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOST = "127.0.0.1"
# Small, so three nodes fit beside the other engineers' tests; a job's results pass through it.
OBJECT_STORE_BYTES = 80 * 1024 * 1024
START_TIMEOUT_SECONDS = 90
# The `ray` command of the Python that runs the tests: the one installed beside it, whatever PATH holds (a
# venv's python run without activating the venv has its own bin folder off PATH).
RAY_COMMAND = Path(sys.executable).parent / ("ray.exe" if sys.platform == "win32" else "ray")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class LocalCluster:
    """`ray start --head` (no CPUs: it only coordinates) plus `workers` nodes of `cpus_per_worker` CPUs."""

    def __init__(self, workers: int = 2, cpus_per_worker: int = 1) -> None:
        self.workers = workers
        self.cpus_per_worker = cpus_per_worker
        self.port = free_port()
        self.address = f"{HOST}:{self.port}"
        # Short path: Ray's Unix sockets live under it and socket paths are limited to ~100 characters.
        self.temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")
        self._nodes: list[subprocess.Popen] = []
        self._failed: list[int] = []  # nodes that failed to start and were replaced

    def start(self) -> LocalCluster:
        if not RAY_COMMAND.exists():
            raise FileNotFoundError(
                f"No `ray` command beside {sys.executable} ({RAY_COMMAND}): install requirements-ray.txt "
                "into the environment that runs the tests."
            )
        self._start_node(
            "--head",
            f"--port={self.port}",
            "--num-cpus=0",
            f"--ray-client-server-port={free_port()}",
            "--include-dashboard=false",
            f"--temp-dir={self.temp_dir}",
        )
        self._wait_for_head()
        # One node at a time, each retried once: on a busy machine Ray gives a starting node only
        # 30 s to register, and nodes starting together slow each other down.
        for _ in range(self.workers):
            worker = (f"--address={self.address}", f"--num-cpus={self.cpus_per_worker}")
            self._start_node(*worker)
            if not self._wait_for_node(len(self._nodes) - 1):
                self._start_node(*worker)
                if not self._wait_for_node(len(self._nodes) - 1):
                    log = (Path(self.temp_dir) / f"node-{len(self._nodes) - 1}.log").read_text()[-2000:]
                    raise RuntimeError(f"A Ray worker node failed to start twice:\n{log}")
        return self

    def wait_for_cpus(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Block until every worker node has joined (needs ray.init in this process first)."""
        import ray

        deadline = time.monotonic() + timeout
        wanted = self.workers * self.cpus_per_worker
        while ray.cluster_resources().get("CPU", 0) < wanted:
            if time.monotonic() > deadline:
                raise TimeoutError(f"Only {ray.cluster_resources().get('CPU', 0)} of {wanted} CPUs joined.")
            self._check_alive()
            time.sleep(0.5)

    def stop(self) -> None:
        # A driver still connected keeps the nodes waiting on it for a minute: disconnect it first.
        ray = sys.modules.get("ray")
        if ray is not None and ray.is_initialized():
            ray.shutdown()
        # Workers first, then the head. With --block, `ray start` ends its own node's processes on
        # SIGTERM in about a second (signalling the whole group instead leaves the GCS hanging).
        for node in reversed(self._nodes):
            if node.poll() is None:
                node.send_signal(signal.SIGTERM)
            try:
                node.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(node.pid, signal.SIGKILL)
                node.wait()
        self._kill_leftovers()
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def _start_node(self, *arguments: str) -> None:
        command = [
            str(RAY_COMMAND),
            "start",
            "--block",
            f"--node-ip-address={HOST}",
            f"--object-store-memory={OBJECT_STORE_BYTES}",
            f"--dashboard-agent-listen-port={free_port()}",
            "--disable-usage-stats",
            *arguments,
        ]
        log = open(Path(self.temp_dir) / f"node-{len(self._nodes)}.log", "w")  # noqa: SIM115 (lives with the node)
        environment = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
        node = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=environment)
        self._nodes.append(node)

    def _wait_for_head(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                socket.create_connection((HOST, self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"The Ray head did not answer on {self.address}; see {self.temp_dir}/node-0.log.")

    def _wait_for_node(self, index: int) -> bool:
        """True once node `index` says it started, False if it exited instead."""
        log = Path(self.temp_dir) / f"node-{index}.log"
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if "Ray runtime started" in log.read_text():
                return True
            if self._nodes[index].poll() is not None:
                self._failed.append(index)
                return False
            time.sleep(0.3)
        raise TimeoutError(f"Ray node {index} did not start in {START_TIMEOUT_SECONDS} s; see {log}.")

    def _check_alive(self) -> None:
        for index, node in enumerate(self._nodes):
            if index not in self._failed and node.poll() is not None:
                log = (Path(self.temp_dir) / f"node-{index}.log").read_text()[-2000:]
                raise RuntimeError(f"Ray node {index} exited with status {node.returncode}:\n{log}")

    def _kill_leftovers(self) -> None:
        """Processes of this cluster that outlived their node (found by this cluster's temp dir)."""
        for pid_dir in Path("/proc").glob("[0-9]*"):
            try:
                command_line = (pid_dir / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if self.temp_dir in command_line or f"{HOST}:{self.port}" in command_line:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(int(pid_dir.name), signal.SIGKILL)
