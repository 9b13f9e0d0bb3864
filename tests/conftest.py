"""Fixtures shared by several test files."""

import sys

import pytest

from helpers import in_this_thread


@pytest.fixture
def inside():
    """ricci's public calls run in this thread, where a test's profile sees them (helpers.in_this_thread)."""
    with in_this_thread():
        yield


@pytest.fixture
def deep_recursion():
    """Room to recurse for a test that runs ricci's stages in its own thread."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20000))
    yield
    sys.setrecursionlimit(old)
