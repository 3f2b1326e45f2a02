"""pyproject.toml installs the one package folder `endpoint_firewall/`, every module and catalogue file in it."""

from __future__ import annotations

import tomllib

from conftest import ROOT
from setuptools import find_packages

PACKAGE = ROOT / "endpoint_firewall"


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_folder_with_python_code_is_a_package_of_the_wheel():
    find = _setuptools()["packages"]["find"]
    assert find.get("namespaces") is False  # a folder without __init__.py would be left out: refuse it here
    found = set(find_packages(str(ROOT), include=find["include"]))
    folders = {p.parent for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    expected = {".".join(f.relative_to(ROOT).parts) for f in folders}
    assert expected - found == set(), "add an __init__.py to these folders"
    assert {f.split(".")[0] for f in found} == {"endpoint_firewall"}


def test_every_catalogue_file_is_package_data():
    patterns = _setuptools()["package-data"]["endpoint_firewall.endpoints"]
    base = PACKAGE / "endpoints"
    files = set((base / "catalogue").rglob("*.yaml"))
    packaged = {p for pattern in patterns for p in base.glob(pattern)}  # setuptools' globs: `*` stays in a folder
    assert files and files - packaged == set(), "add their folder to [tool.setuptools.package-data]"
