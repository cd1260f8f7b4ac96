"""Page tests share one server process's resources, as sessions on a server do."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def _background_loading_ends_with_the_session():
    """The app's first script run starts importing Keras and warming up in daemon threads: a session that
    ends first (a file run alone) would tear them down inside XLA, and the interpreter aborts at exit."""
    yield
    from core import libraries

    assert libraries.wait_for_background_load(timeout=600), "the app's background load was still running 600 s later"


@pytest.fixture(autouse=True)
def _trainings_end_with_their_test():
    """A training a test started must not outlive it: a worker thread still compiling when pytest
    writes its summary can crash the interpreter (CPython 3.11 compiles are not thread-safe there)."""
    yield
    from pages.resources import job_runner

    assert job_runner().wait_idle(timeout=300), "a training started by this test was still running 300 s later"


@pytest.fixture
def fresh_dataset_caches():
    """Datasets are cached per process (and per page for 5 minutes): a test of loading starts clean."""
    from core.data import datasets as data
    from pages.resources import named_dataset_choice

    data.clear_dataset_cache()
    named_dataset_choice.clear()
    yield
    data.clear_dataset_cache()
    named_dataset_choice.clear()
