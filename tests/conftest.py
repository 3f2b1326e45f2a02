"""What the tests share: the repository root, and the markers a test gets from what it needs.

Markers (declared in pyproject.toml): ``suricata`` for the tests that run the Suricata engine (any test using the
``suricata`` fixture gets it here), ``slow`` for the ones that build a wheel or 100k-destination catalogues. The
quick loop while editing: ``.venv/bin/python -m pytest -m "not slow and not suricata"``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]  # the repository root: Pulumi.yaml, stacks/, endpoint_firewall/


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "suricata" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.suricata)
