from __future__ import annotations

import pytest

from simulator.city import City, build_city

SEED = 7
N_SMALL = 20_000


@pytest.fixture(scope="session")
def city() -> City:
    """A 20,000-device city, shared read-only by the tests (scenarios bind to their own Simulation)."""
    return build_city(SEED, N_SMALL)


@pytest.fixture(scope="session")
def city_full() -> City:
    """The full-size city of the default run (100,000 devices)."""
    return build_city(2024, 100_000)
