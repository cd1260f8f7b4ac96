"""Shared fixtures: small real datasets and settings that train in seconds."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Keep TensorFlow's start-up chatter out of test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# What the app keeps between runs on a user's machine (compiled programs, finished runs, Keras's settings and
# downloads) goes, for each test process, into a fresh folder removed when the process ends: what earlier runs
# left on this machine cannot change an outcome. It is set here, at import, because core.libraries reads the
# compile cache's folder when it loads Keras; the app servers and workers the tests start inherit it.
PROCESS_FOLDER = Path(tempfile.mkdtemp(prefix="training-studio-tests-"))
atexit.register(shutil.rmtree, PROCESS_FOLDER, ignore_errors=True)
os.environ["TRAINING_STUDIO_COMPILE_CACHE"] = str(PROCESS_FOLDER / "compiled")
os.environ["TRAINING_STUDIO_RUNS_DIR"] = str(PROCESS_FOLDER / "runs")
os.environ["KERAS_HOME"] = str(PROCESS_FOLDER / "keras")


@pytest.fixture(scope="session")
def digits():
    from core.data.datasets import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def jax_fit():
    """core.training.jax_fit, the engine's loop on JAX; its tests skip on another backend."""
    from core import libraries

    libraries.load("keras")
    import keras

    if keras.backend.backend() != "jax":
        pytest.skip("the engine's device loop is the JAX backend's (tests/core/test_backends.py covers both backends)")
    from core.training import jax_fit

    return jax_fit


@pytest.fixture
def quick_config():
    """The lesson's model on the embedded digits: a couple of epochs train in about a second."""
    from core.config import TrainingConfig

    return TrainingConfig(dataset="digits", epochs=2, batch_size=32, metrics=("accuracy",))


@pytest.fixture(autouse=True)
def _runs_dir(tmp_path, monkeypatch):
    """Finished runs are saved to disk (core.results.experiments): tests save into their own folder."""
    monkeypatch.setenv("TRAINING_STUDIO_RUNS_DIR", str(tmp_path / "runs"))


@pytest.fixture(autouse=True)
def _no_measured_paces():
    """Each test estimates as a fresh server does: no pace measured by an earlier test's runs (core.training.paces)."""
    from core.training.paces import forget_paces

    forget_paces()
    yield
    forget_paces()
