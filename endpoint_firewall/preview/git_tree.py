"""Check out the project as it was at a git ref, its package importable from a folder of its own."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tomllib
from pathlib import Path

from ..endpoints.errors import EpfwError

PACKAGE = "endpoint_firewall"


class GitRefError(EpfwError):
    pass


def export_tree(project: Path, ref: str, dest: Path) -> Path:
    """Write the files of ``ref`` into ``dest/tree`` (no .git) and return that folder."""
    result = subprocess.run(
        ["git", "-C", str(project), "archive", "--format=tar", ref], capture_output=True, check=False
    )
    if result.returncode != 0:
        raise GitRefError(f"cannot read git ref {ref!r}: {result.stderr.decode(errors='replace').strip()}")
    tree = dest / "tree"
    tree.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as archive:
        archive.extractall(tree, filter="data")
    return tree


def package_root(tree: Path, dest: Path) -> Path:
    """A folder to put on PYTHONPATH so that ``endpoint_firewall`` imports ``tree``'s code (and nothing else of it).

    The package is the folder ``endpoint_firewall/`` of the tree: one symbolic link to it. A ref from before
    that layout (top-level folders mapped into the package by ``[tool.setuptools] package-dir``) gets the
    same mapping rebuilt with links, so ``epfw preview --base`` still compares against it.
    """
    root = dest / "pkg"
    package = root / PACKAGE
    root.mkdir(parents=True)
    config = tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8"))
    mapping: dict[str, str] = config.get("tool", {}).get("setuptools", {}).get("package-dir", {})
    if not mapping:
        package.symlink_to(tree / PACKAGE)
        return root
    package.mkdir()
    for item in (tree / mapping.get(PACKAGE, PACKAGE)).iterdir():
        (package / item.name).symlink_to(item)
    for name, folder in mapping.items():
        if name.startswith(PACKAGE + ".") and name.count(".") == 1:
            link = package / name.split(".", 1)[1]
            if not link.exists():
                link.symlink_to(tree / folder)
    return root
