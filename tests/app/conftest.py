"""Fixtures for the pages in AppTest."""

import pytest


@pytest.fixture
def fresh_dataset_caches():
    """Datasets are cached per process (and per page for 5 minutes): a test of loading starts clean."""
    from core.data import datasets as data
    from pages.shared import dataset_or_fallback

    data.clear_dataset_cache()
    dataset_or_fallback.clear()
    yield
    data.clear_dataset_cache()
    dataset_or_fallback.clear()
