import pathlib

import pytest

import govdata

ROOT = pathlib.Path(__file__).resolve().parents[2]
"""The repository root."""


@pytest.fixture(scope="session")
def root() -> pathlib.Path:
    return ROOT


@pytest.fixture(scope="session")
def engine() -> govdata.Engine:
    """The default pack and the example inventory, shared (read-only tests only)."""
    return govdata.Engine.default()


@pytest.fixture
def fresh_engine() -> govdata.Engine:
    """An engine of its own, for tests that change it."""
    return govdata.Engine.default()
