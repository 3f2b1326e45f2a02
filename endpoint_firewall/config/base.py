"""What the settings of both clouds share: the model base (camelCase keys as in Pulumi config files, unknown keys
refused, frozen) and what Pulumi does when a resource leaves the stack (``onDelete``).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)


# --- Deployment safety and composition (issue 18): what Pulumi does when a resource leaves the stack or is
# replaced, the names a component may take as inputs, and tags. docs/deploying.md explains the choices.


class OnDelete(StrEnum):
    """What Pulumi does with a resource that leaves the stack (or the old one of a replacement)."""

    DELETE = "delete"  # Pulumi deletes it
    RETAIN = "retain"  # Pulumi forgets it and it stays in the cloud (resource option retainOnDelete)
    PROTECT = "protect"  # preview and up refuse to delete or replace it (resource option protect), naming it
