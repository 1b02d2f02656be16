"""Shared test set-up: a fresh cache folder for the whole session, so tests
make their own data (and never trust data/cache/), and the quick preset."""
import os
import tempfile

os.environ.setdefault("SERTOOLS_CACHE", tempfile.mkdtemp(prefix="sertools-test-cache-"))
os.environ.setdefault("SERTOOLS_RESULTS", tempfile.mkdtemp(prefix="sertools-test-results-"))
os.environ.setdefault("SERTOOLS_PRESET", "quick")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def quick_config():
    from sertools.config import get_config
    return get_config("quick")
