"""A stack's catalogue and plan, from its config: pure, shared by the Pulumi program and ``epfw``."""

from __future__ import annotations

from pathlib import Path

from ..config.stack_config import NAMESPACE, ConfigError, StackConfig
from ..endpoints.errors import Problem
from ..endpoints.loader import Catalogue, load_catalogue
from ..planning.planner import build_plan
from ..planning.rules import Plan
from ..planning.selection import unknown_names


def load_selected(config: StackConfig, project_dir: Path, origin: str) -> tuple[Catalogue, Plan]:
    """Load the stack's catalogue and plan its selection; selection typos are refused, naming the key."""
    files = [project_dir / f for f in config.catalogue] if config.catalogue else None
    catalogue = load_catalogue(files)
    problems = unknown_names(catalogue, config.selection.to_selection())
    if problems:
        raise ConfigError([Problem(origin, 1, f"{NAMESPACE}:selection", p) for p in problems])
    plan = build_plan(catalogue, config.selection.to_selection(), config.source_ranges, config.peer_ranges)
    return catalogue, plan
