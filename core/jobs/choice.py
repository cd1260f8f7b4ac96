"""Which job runner trains the app's models: in-process (the default) or a Ray cluster, by configuration."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

from core.jobs.runner import JobRunner, job_runner_from_environment

RUNNER_ENV = "TRAINING_STUDIO_RUNNER"  # "ray" or "in-process"
RAY_ADDRESS_ENV = "RAY_ADDRESS"  # Ray's own variable: host:port of the cluster's head
# A head that does not answer within this is treated as unreachable; the app must start regardless.
CONNECT_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class RunnerChoice:
    """The runner in force, what it is in words, and why the configured one is not in force (if so)."""

    runner: Any
    description: str
    notice: str | None = None


def choose_job_runner(environ: dict[str, str] | None = None) -> RunnerChoice:
    """Ray when RAY_ADDRESS or TRAINING_STUDIO_RUNNER=ray says so, else in-process.

    A Ray cluster that cannot be reached (or a missing `ray` package) falls back to in-process,
    with a notice that says what failed and how to fix it, so the app keeps working.
    """
    environ = os.environ if environ is None else environ
    wanted = environ.get(RUNNER_ENV, "").strip().lower()
    address = environ.get(RAY_ADDRESS_ENV, "").strip()
    if wanted not in ("", "ray", "in-process"):
        return _in_process(environ, f"{RUNNER_ENV}={wanted!r} is not a runner; expected 'ray' or 'in-process'.")
    if wanted == "in-process" or (wanted != "ray" and not address):
        return _in_process(environ)
    # Without an address, "auto" finds a cluster started on this machine with `ray start --head`.
    address = address or "auto"
    try:
        from core.jobs.ray_jobs import RayJobRunner

        _check_reachable(address)
        runner = RayJobRunner(address)
    except ImportError:
        return _in_process(
            environ, "Ray is configured but not installed. Install it with `pip install -r requirements-ray.txt`."
        )
    except Exception as error:
        return _in_process(
            environ,
            f"The Ray cluster at {address} could not be reached ({type(error).__name__}: {error}). "
            f"Start it with `ray start --head`, or check {RAY_ADDRESS_ENV}.",
        )
    return RunnerChoice(runner, runner.describe())


def make_job_runner() -> Any:
    """The job runner the configuration asks for (see choose_job_runner); its notice is startup_notice()."""
    global _last_choice
    _last_choice = choose_job_runner()
    return _last_choice.runner


def startup_notice() -> str | None:
    """Why the app trains in-process although Ray was configured, or None."""
    return _last_choice.notice if _last_choice else None


_last_choice: RunnerChoice | None = None
_IN_PROCESS = "this server"


def _in_process(environ: dict[str, str], why_not_ray: str | None = None) -> RunnerChoice:
    """This server's own line. A host's setting out of range is said, and the defaults train meanwhile."""
    notices = [f"Trainings run on this server instead of Ray: {why_not_ray}"] if why_not_ray else []
    try:
        runner = job_runner_from_environment(environ)
    except ValueError as error:
        runner = JobRunner()
        notices.append(f"{error} Training uses the default meanwhile.")
    return RunnerChoice(runner, _IN_PROCESS, " ".join(notices) or None)


def _check_reachable(address: str) -> None:
    """Fail within CONNECT_TIMEOUT_SECONDS if host:port does not answer (ray.init would wait far longer)."""
    address = address.removeprefix("ray://")
    if address == "auto" or ":" not in address:
        return
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_SECONDS):
        pass
