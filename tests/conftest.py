"""What the tests share: the repository root, Pulumi runs under recording mocks, and the markers a test gets
from what it needs.

``pulumi_run(body, answer=..., project=..., stack=..., preview=False)`` runs ``body`` as a Pulumi program under the
one recording Mocks (``endpoint_firewall/preview/mock_runner.py``, the one ``epfw preview`` uses), each run on an
event loop of its own, and returns the mocks with their records (``resources``, ``options``, ``outputs``);
``preview=True`` runs it as ``pulumi preview`` does, outputs the mocks do not answer being unknown.

Markers (declared in pyproject.toml): ``suricata`` for the tests that run the Suricata engine (any test using the
``suricata`` fixture gets it here), ``slow`` for the ones that build a wheel or 100k-destination catalogues. The
quick loop while editing: ``.venv/bin/python -m pytest -m "not slow and not suricata"``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from endpoint_firewall.config.azure_config import AzureConfig
    from endpoint_firewall.endpoints.loader import Catalogue

ROOT = Path(__file__).resolve().parents[1]  # the repository root: Pulumi.yaml, stacks/, endpoint_firewall/


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def dev_azure_config() -> AzureConfig:
    """The demo stack's (stacks/Pulumi.dev.yaml) Azure settings."""
    from endpoint_firewall.config.stack_config import load_stack_file

    azure = load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml").azure
    assert azure is not None  # the dev stack configures Azure
    return azure


GENERATED_DESTINATIONS = 3_000


@pytest.fixture(scope="session")
def generated_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    """The benchmark's seeded synthetic catalogue (``bench/generate.py``) at 3,000 destinations: names, wildcards,
    IPv4 and IPv6 CIDRs in six service areas, some entries with names only, some with addresses only."""
    import sys

    from endpoint_firewall.endpoints.loader import load_catalogue

    sys.path.insert(0, str(ROOT / "bench"))
    import generate

    path = tmp_path_factory.mktemp("generated") / "catalogue.yaml"
    path.write_text(generate.native_catalogue(GENERATED_DESTINATIONS), encoding="utf-8")
    return load_catalogue([path])


def clone_with_change(tmp_path: Path, change: Callable[[Path], None], message: str) -> Path:
    """A git clone of this repository's HEAD with the working tree's program, catalogue and stacks committed as the
    base, and one more commit made by ``change(repo)``: what ``epfw preview --base HEAD~1`` compares."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
    for f in ("endpoint_firewall", "stacks"):
        shutil.rmtree(repo / f, ignore_errors=True)
        shutil.copytree(ROOT / f, repo / f, ignore=shutil.ignore_patterns("__pycache__"))
    for f in ("pyproject.toml", "__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / f, repo / f)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base", "--allow-empty"], check=True)
    change(repo)
    subprocess.run([*git, "commit", "-qam", message], check=True)
    return repo


@pytest.fixture(scope="session")
def suricata() -> str:
    """The Suricata binary, for the tests that run the engine: they skip without it, and fail under ``CI=true``."""
    from endpoint_firewall.checks.suricata import find_suricata

    binary = find_suricata()
    if binary is None:
        message = (
            "Suricata is not installed: the AWS engine tests need it (scripts/install-suricata.sh, or "
            "apt-get install -t bookworm-backports suricata on Debian 12)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return binary


PulumiRun = Callable[..., Any]


@pytest.fixture(scope="session")
def pulumi_run() -> PulumiRun:
    from endpoint_firewall.preview.mock_runner import RecordingMocks, echo_inputs, run_under_mocks

    def run(
        body: Callable[[], Any],
        answer=echo_inputs,
        project: str = "endpoint-firewall",
        stack: str = "test",
        mocks: RecordingMocks | None = None,
        preview: bool = False,
    ) -> RecordingMocks:
        return run_under_mocks(body, mocks or RecordingMocks(answer), project, stack, preview)

    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "suricata" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.suricata)
