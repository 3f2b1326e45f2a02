"""Render a stack to files, exactly what it deploys, from the same functions the components use."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..config.stack_config import StackConfig, load_stack_file, stack_file
from ..endpoints.loader import load_catalogue
from ..planning.planner import build_plan
from ..planning.rules import Plan
from ..planning.selection import Selection
from .stack_plan import load_selected

if TYPE_CHECKING:  # imported when rendering, not with this module
    from ..renderers.aws import AwsRender
    from ..renderers.azure import AzureRender


@dataclass(frozen=True)
class StackRender:
    stack: str
    plan: Plan
    azure: AzureRender | None
    aws: AwsRender | None

    def summary(self) -> dict:
        return {
            "stack": self.stack,
            "catalogueDigest": self.plan.digest,
            "entries": len(self.plan.selected_entries),
            "sourceRanges": list(self.plan.source_ranges),
            "skipped": [{"entry": s.entry, "destination": s.destination, "reason": s.reason}
                        for s in self.plan.skipped],
            "azure": self.azure.summary() if self.azure else None,
            "aws": self.aws.summary() if self.aws else None,
        }

    def files(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for cloud in (self.azure, self.aws):
            if cloud:
                out.update(cloud.files())
        out["summary.json"] = json.dumps(self.summary(), indent=2, ensure_ascii=False) + "\n"
        return out


def find_project_dir(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` with a Pulumi.yaml (else ``start``)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").exists():
            return folder
    return here


def render_config(stack: str, config: StackConfig, project_dir: Path,
                  catalogue_files: list[Path] | None = None) -> StackRender:
    """Plan and render ``config``; with ``catalogue_files``, every entry of those files is selected."""
    if catalogue_files:
        catalogue = load_catalogue(catalogue_files)
        plan = build_plan(catalogue, Selection(), config.source_ranges, config.peer_ranges)
    else:
        _, plan = load_selected(config, project_dir, str(stack_file(project_dir, stack)))
    azure = aws = None
    if config.azure and config.azure.enabled:
        from ..renderers.azure import render_azure
        azure = render_azure(plan, config.azure)
    if config.aws and config.aws.enabled:
        from ..renderers.aws import render_aws
        aws = render_aws(plan, config.aws)
    return StackRender(stack=stack, plan=plan, azure=azure, aws=aws)


def render_stack(stack: str, project_dir: Path, catalogue_files: list[Path] | None = None) -> StackRender:
    config = load_stack_file(stack_file(project_dir, stack))
    return render_config(stack, config, project_dir, catalogue_files)


def write_atomically(files: dict[str, str], out: Path) -> None:
    """Write every file into a fresh folder beside ``out``, then swap it in: all or nothing."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for rel, text in sorted(files.items()):
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.rename(out, old / "x")
            os.rename(staging, out)
            shutil.rmtree(old)
        else:
            os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
