"""pyproject.toml maps every Python package folder of the repository into `endpoint_firewall`."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_for_the_wheel():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping: dict[str, str] = setuptools["package-dir"]
    listed = set(setuptools["packages"])
    expected = set()
    for package, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            expected.add(".".join([package, *relative.parts]) if relative.parts else package)
    assert expected - listed == set(), "add these to [tool.setuptools] packages"
    assert listed - expected == set(), "listed but missing"
