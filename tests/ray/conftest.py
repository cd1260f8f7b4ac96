"""A real Ray cluster on loopback (a head and two one-CPU worker nodes), one per test module.

Stopped when the module ends, so its workers hold no memory while the other tests run.
"""

import importlib.util
import os

import pytest

from tests.ray.local_cluster import LocalCluster

RAY_INSTALLED = importlib.util.find_spec("ray") is not None


def pytest_collection_modifyitems(items):
    # Every test here starts a cluster: `-m "not ray"` leaves them out (pytest hands this hook every item).
    for item in items:
        if "tests/ray/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.ray)


def needs_ray() -> None:
    """Skip where Ray is not installed, except in CI (CI=true), where these tests must run."""
    if not RAY_INSTALLED:
        if os.environ.get("CI") == "true":
            pytest.fail("Ray is not installed in CI: requirements-dev.txt must pull in requirements-ray.txt.")
        pytest.skip("Ray is not installed here (pip install -r requirements-ray.txt runs these tests).")


@pytest.fixture(scope="module")
def ray_cluster():
    needs_ray()
    cluster = LocalCluster(workers=2, cpus_per_worker=1).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def ray_runner(ray_cluster):
    """The app's Ray job runner, connected to the test cluster, with a slot per worker CPU."""
    from core.jobs.ray_jobs import RayJobRunner

    runner = RayJobRunner(ray_cluster.address, max_concurrent=2)
    ray_cluster.wait_for_cpus()
    yield runner
    runner.wait_idle(timeout=60)
