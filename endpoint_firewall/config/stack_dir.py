"""Where a project keeps its stack files: the one lookup of ``Pulumi.yaml``'s ``stackConfigDir``.

No imports from the package on purpose: ``preview/mock_runner.py`` (which runs as a script against the code of
another git ref) loads this file by its path, and ``config/stack_config.py`` imports it.
"""

from __future__ import annotations

from pathlib import Path

import yaml


def stack_config_dir(project_dir: Path) -> Path:
    """``Pulumi.yaml``'s ``stackConfigDir`` (Pulumi's default: the project folder itself); a folder without a
    ``Pulumi.yaml`` is taken to keep its stack files in ``stacks/``. Raises ``yaml.YAMLError`` on a bad file."""
    settings = project_dir / "Pulumi.yaml"
    if not settings.exists():
        return project_dir / "stacks"
    data = yaml.safe_load(settings.read_text(encoding="utf-8"))
    folder = data.get("stackConfigDir") if isinstance(data, dict) else None
    return project_dir / folder if isinstance(folder, str) and folder else project_dir
