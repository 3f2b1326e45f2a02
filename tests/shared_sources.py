"""Where the tests find ``../shared`` (the project's sources and seed), relative to the repository root.

A user's clone has no ``../shared`` beside it: the tests that read it skip there, saying so. CI sets
``EPFW_REQUIRE_SHARED=1`` (``.ci/run``), which turns that absence into a failure, so CI always runs them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ROOT

SHARED_DIR = ROOT.parent / "shared"
REQUIRE_ENV = "EPFW_REQUIRE_SHARED"
SEED = SHARED_DIR / "seed" / "intune-endpoints.ja.md"
INTUNE_PAGE = SHARED_DIR / "sources" / "intune-endpoints-2026-08.en.md"


def require_shared(path: Path) -> Path:
    """``path`` if it exists; else skip the test (fail it where ``EPFW_REQUIRE_SHARED`` is set)."""
    if path.is_file():
        return path
    message = (
        f"{path} is absent: it lives in ../shared beside the repository, which only the project's own machines have"
    )
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{message}; {REQUIRE_ENV} is set, so its tests must run", pytrace=False)
    pytest.skip(message)
    raise AssertionError("unreachable")  # pragma: no cover
