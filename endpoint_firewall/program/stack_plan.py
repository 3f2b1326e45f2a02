"""A stack's catalogue and plan, from its config: pure, shared by the Pulumi program and ``epfw``."""

from __future__ import annotations

from pathlib import Path

from ..config.stack_config import NAMESPACE, ConfigError, StackConfig
from ..endpoints import yaml_lines
from ..endpoints.errors import Problem
from ..endpoints.loader import Catalogue, load_catalogue
from ..planning.planner import build_plan
from ..planning.rules import Plan
from ..planning.selection import Selection, unknown_names
from ..planning.tenant_wildcards import instance_problems


def load_selected(
    config: StackConfig, project_dir: Path, origin: str, every_entry_of: list[Path] | None = None
) -> tuple[Catalogue, Plan]:
    """Load the stack's catalogue and plan its selection; selection typos are refused, naming the key. With
    ``every_entry_of`` (``epfw render --catalogue``): every entry of those files, with the stack's shared-tenant
    settings."""
    if every_entry_of:
        catalogue = load_catalogue(every_entry_of)
        chosen = config.selection.to_selection()
        selection = Selection(
            shared_tenant_wildcards=chosen.shared_tenant_wildcards, tenant_instances=chosen.tenant_instances
        )
    else:
        catalogue = load_catalogue([project_dir / f for f in config.catalogue] if config.catalogue else None)
        selection = config.selection.to_selection()
    problems = [Problem(origin, 1, f"{NAMESPACE}:selection", p) for p in unknown_names(catalogue, selection)]
    instances = instance_problems(catalogue, selection)
    if instances:
        lines = _lines(origin)
        for index, message in instances:
            path = (f"{NAMESPACE}:selection", "tenantInstances", index)
            line = yaml_lines.line_of(lines, ("config", *path)) if lines else 1
            problems.append(Problem(origin, line, yaml_lines.dotted(path), message))
    if problems:
        raise ConfigError(problems)
    plan = build_plan(catalogue, selection, config.source_ranges, config.peer_ranges)
    return catalogue, plan


def _lines(origin: str) -> dict:
    """The lines of the stack file ``origin`` names (it parsed once already); none for Pulumi's own config."""
    path = Path(origin)
    if not path.is_file():
        return {}
    return yaml_lines.load(path.read_text(encoding="utf-8"), origin)[1]
