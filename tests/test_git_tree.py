"""``epfw preview --base`` imports the package of another ref: today's layout and the one before it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from endpoint_firewall.preview.git_tree import package_root


def _imports(root: Path, module: str) -> str:
    code = f"import {module} as m; print(m.WHERE)"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    ).stdout.strip()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_one_package_folder(tmp_path):
    tree = tmp_path / "tree"
    _write(tree / "pyproject.toml", '[tool.setuptools.packages.find]\ninclude = ["endpoint_firewall*"]\n')
    _write(tree / "endpoint_firewall" / "__init__.py", "")
    _write(tree / "endpoint_firewall" / "planning" / "__init__.py", "WHERE = 'tree planning'\n")
    _write(tree / "planning" / "__init__.py", "WHERE = 'stray top-level folder'\n")
    root = package_root(tree, tmp_path / "work")
    assert _imports(root, "endpoint_firewall.planning") == "tree planning"
    assert sorted(p.name for p in root.iterdir()) == ["endpoint_firewall"]  # nothing else of the tree on the path


def test_a_ref_with_the_folder_mapping_of_before(tmp_path):
    tree = tmp_path / "tree"
    _write(
        tree / "pyproject.toml",
        '[tool.setuptools]\npackage-dir = {"endpoint_firewall" = "endpoint_firewall", '
        '"endpoint_firewall.planning" = "planning"}\n',
    )
    _write(tree / "endpoint_firewall" / "__init__.py", "")
    _write(tree / "planning" / "__init__.py", "WHERE = 'mapped planning'\n")
    root = package_root(tree, tmp_path / "work")
    assert _imports(root, "endpoint_firewall.planning") == "mapped planning"
