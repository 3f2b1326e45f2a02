"""Tests that read ../shared skip on a user's machine and fail in CI when it is absent."""

from __future__ import annotations

import pytest
from shared_sources import REQUIRE_ENV, ROOT, SHARED_DIR, require_shared


def test_shared_folder_is_found_beside_the_repository_root():
    assert SHARED_DIR == ROOT.parent / "shared"
    assert (ROOT / "pyproject.toml").is_file()


def test_absent_source_skips_with_a_reason_on_a_users_machine(tmp_path, monkeypatch):
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="absent: it lives in ../shared"):
        require_shared(tmp_path / "nothing.md")


def test_absent_source_fails_where_ci_requires_it(tmp_path, monkeypatch):
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=f"{REQUIRE_ENV} is set"):
        require_shared(tmp_path / "nothing.md")


def test_present_source_is_returned(tmp_path):
    source = tmp_path / "page.md"
    source.write_text("x")
    assert require_shared(source) == source
