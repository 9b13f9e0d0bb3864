"""Fixtures shared by several test files."""

import pytest

from helpers import in_this_thread


@pytest.fixture
def inside():
    """ricci's public calls run in this thread, where a test's profile sees them (helpers.in_this_thread)."""
    with in_this_thread():
        yield
