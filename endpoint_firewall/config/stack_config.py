"""The stack configuration: the ``endpoint-firewall:`` namespace of ``stacks/Pulumi.<stack>.yaml``.

One pydantic model serves both the Pulumi program (values from ``pulumi.Config``) and ``epfw`` (values
read from the stack file with line numbers). Keys are camelCase as in Pulumi config files; unknown keys
are refused with the key named, before anything is registered. Each cloud's settings have a module of their own
(:mod:`.azure_config`, :mod:`.aws_config`, :mod:`.dns_config`); this one holds the namespace (selection, ranges,
tags), the parser with located errors and the stack file loader.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, overload

import yaml
from pydantic import AfterValidator, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import ErrorDetails

from ..endpoints import names, yaml_lines
from ..endpoints.errors import CatalogueError, EpfwError, Problem
from ..endpoints.located import located_problems
from ..endpoints.models import located
from ..planning.selection import Selection, SharedTenantMode
from .aws_config import AwsConfig, aws_groups_delete_problem, aws_policy_delete_problem
from .azure_config import AzureConfig, azure_policy_delete_problem, missing_azure_names
from .base import ConfigModel, OnDelete
from .stack_dir import stack_config_dir

NAMESPACE = "endpoint-firewall"


def _networks(values: Sequence[str]) -> tuple[str, ...]:
    out = []
    for value in values:
        net = names.normalise_network(value)
        if net in names.ANY_NETWORKS:
            raise ValueError(f"{value!r} is every address; name the real ranges")
        out.append(net)
    return tuple(out)


def _tenant_instance(value: str) -> str:
    """One instance's host name, checked as the catalogue checks names (``names.normalise_fqdn``)."""
    if "*" in value:
        raise ValueError(f"{value!r}: name one instance, not a wildcard (the catalogue has the wildcards)")
    pasted = names.split_pasted(value)
    if pasted:
        raise ValueError(f"{value!r} is a {pasted[0]}; write the host name {pasted[1]!r}")
    return names.normalise_fqdn(value)


TenantInstance = Annotated[str, AfterValidator(_tenant_instance)]


class SelectionConfig(ConfigModel):
    service_areas: tuple[str, ...] | None = Field(None, description="service area ids; omitted: all")
    regions: tuple[str, ...] | None = Field(
        None,
        description=(
            "region tags; omitted: every region but us-gov, which a stack must name; entries without regions are "
            "always kept"
        ),
    )
    include_optional: bool = Field(
        False, description="also deploy entries marked required: false (default: they are left out)"
    )
    entries: tuple[str, ...] | None = Field(None, description="explicit entry ids; omitted: all")
    # Shared-tenant wildcards (*.webpubsub.azure.com: anyone can create an instance there), see
    # docs/shared-tenant-wildcards.md. Whether each instance sits under a selected wildcard needs the catalogue:
    # planning.tenant_wildcards.instance_problems, run where the catalogue is loaded (program/stack_plan.py).
    shared_tenant_wildcards: SharedTenantMode = Field(
        SharedTenantMode.EXACT,
        description=(
            "exact: deploy the exact names an entry lists under a shared-tenant wildcard (and tenantInstances), "
            "reporting the wildcard as left out; allow: deploy the wildcard too, reported as open to any tenant"
        ),
    )
    tenant_instances: tuple[TenantInstance, ...] = Field(
        (),
        description=(
            "your tenant's own instances under the selected entries' shared-tenant wildcards (e.g. your Remote Help "
            "web pubsub), deployed with the wildcard's services and entries"
        ),
    )

    @field_validator("tenant_instances")
    @classmethod
    def _instances_once(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        twice = sorted({name for name in value if value.count(name) > 1})
        if twice:
            raise ValueError(f"listed more than once: {', '.join(twice)}")
        return value

    def to_selection(self) -> Selection:
        as_set = lambda v: None if v is None else frozenset(v)  # noqa: E731
        return Selection(
            service_areas=as_set(self.service_areas),
            regions=as_set(self.regions),
            include_optional=self.include_optional,
            entry_ids=as_set(self.entries),
            shared_tenant_wildcards=self.shared_tenant_wildcards,
            tenant_instances=self.tenant_instances,
        )


# Tags go to both clouds, so they must satisfy both: AWS Network Firewall's model (botocore 1.44, shapes TagKey
# 1..128, TagValue 0..256, TagList at most 200) and Azure's tag limitations (learn.microsoft.com/azure/
# azure-resource-manager/management/tag-resources#limitations: tag names up to 512 and values up to 256
# characters, names without < > % & \ ? /, at most 50 tags per resource); AWS reserves the prefix aws:
# (docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html, "Tag naming limits and requirements").
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
TAGS_MAX = 50
TAG_KEY_FORBIDDEN = "<>%&\\?/"


def check_tags(tags: dict[str, str]) -> None:
    """Raise ValueError naming the first tag that one of the two clouds would refuse."""
    if len(tags) > TAGS_MAX:
        raise ValueError(f"{len(tags)} tags; Azure takes at most {TAGS_MAX} per resource")
    for key, value in tags.items():
        if not 1 <= len(key) <= TAG_KEY_MAX:
            raise ValueError(f"tag {key!r}: a key has 1 to {TAG_KEY_MAX} characters (AWS)")
        if len(value) > TAG_VALUE_MAX:
            raise ValueError(f"tag {key!r}: the value has {len(value)} characters, at most {TAG_VALUE_MAX}")
        bad = sorted(set(key) & set(TAG_KEY_FORBIDDEN))
        if bad:
            raise ValueError(f"tag {key!r}: Azure refuses {' '.join(bad)} in tag names")
        if key.lower().startswith("aws:"):
            raise ValueError(f"tag {key!r}: the prefix aws: is reserved by AWS")


class StackConfig(ConfigModel):
    """Everything under ``endpoint-firewall:`` in a stack file."""

    source_ranges: tuple[str, ...] = Field(
        min_length=1, description="managed-device source CIDRs: Azure sourceAddresses, AWS HOME_NET"
    )
    peer_ranges: tuple[str, ...] = Field(
        (), description="peers for peer-to-peer entries (Delivery Optimization 7680, Teredo 3544); empty: none"
    )
    catalogue: tuple[str, ...] | None = Field(None, description="catalogue files; omitted: the shipped catalogue")
    selection: SelectionConfig = Field(SelectionConfig(), description="which catalogue entries the stack deploys")
    azure: AzureConfig | None = Field(None, description="Azure Firewall settings; omitted: nothing on Azure")
    aws: AwsConfig | None = Field(None, description="AWS Network Firewall settings; omitted: nothing on AWS")
    tags: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "tags on every resource that takes them, on both clouds: keys of 1 to 128 characters, without < > % & \\ ? / "
            "nor the prefix aws:, values of at most 256 characters, at most 50 tags"
        ),
    )

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        check_tags(value)
        return value

    @model_validator(mode="after")
    def _names(self, info: ValidationInfo) -> StackConfig:
        """A stack file names what the Azure rules attach to; the cross-language component may take those names as
        inputs instead (``parse(..., given=...)``)."""
        given = (info.context or {}).get("given", frozenset())
        if self.azure is not None:
            for key, message in missing_azure_names(self.azure, given):
                raise located(("azure",) if key != "resourceGroupName" else ("azure", key), message)
        problems = [
            (("azure", "onDelete", "policy"), self.azure and azure_policy_delete_problem(self.azure)),
            (("aws", "onDelete", "policy"), self.aws and aws_policy_delete_problem(self.aws)),
            (
                ("aws", "onDelete", "groups"),
                self.aws and self.aws.on_delete.groups is OnDelete.DELETE and aws_groups_delete_problem(self.aws),
            ),
        ]
        for at, problem in problems:
            if problem:
                raise located(at, problem)
        return self

    @field_validator("source_ranges", "peer_ranges", mode="before")
    @classmethod
    def _nets(cls, value: Any) -> Any:
        return _networks(value) if isinstance(value, (list, tuple)) else value

    @model_validator(mode="after")
    def _some_cloud(self) -> StackConfig:
        if not (self.enabled_cloud("azure") or self.enabled_cloud("aws")):
            raise ValueError("configure at least one enabled cloud: azure or aws")
        return self

    @overload
    def enabled_cloud(self, cloud: Literal["azure"]) -> AzureConfig | None: ...
    @overload
    def enabled_cloud(self, cloud: Literal["aws"]) -> AwsConfig | None: ...
    @overload
    def enabled_cloud(self, cloud: str) -> AzureConfig | AwsConfig | None: ...

    def enabled_cloud(self, cloud: str) -> AzureConfig | AwsConfig | None:
        """The settings of ``cloud`` (``azure`` or ``aws``) when the stack deploys it: given and ``enabled``."""
        settings: AzureConfig | AwsConfig | None = getattr(self, cloud)
        return settings if settings is not None and settings.enabled else None


class ConfigError(CatalogueError):
    """Located problems in a stack's configuration."""


def parse(
    values: dict[str, Any],
    filename: str,
    lines: dict | None = None,
    line_prefix: tuple = (),
    given: frozenset[str] = frozenset(),
) -> StackConfig:
    """Validate the namespace's values (keys without the ``endpoint-firewall:`` prefix); ``given``: the Azure names
    (``resourceGroupName``, ``policyName``, ``firewallName``) a component takes as inputs instead."""
    try:
        return StackConfig.model_validate(values, context={"given": given})
    except ValidationError as err:
        raise ConfigError(
            located_problems(
                err,
                filename,
                line=lambda loc: yaml_lines.line_of(lines, line_prefix + _yaml_path(loc)) if lines else 1,
                field=lambda loc: f"{NAMESPACE}:{yaml_lines.dotted(loc)}" if loc else NAMESPACE,
                message=_message,
            )
        ) from None


def _message(item: ErrorDetails, loc: tuple) -> str:
    """Pydantic's message; the key itself is the problem's field (``endpoint-firewall:key``), so it is not
    repeated here as the catalogue loader's messages repeat it (``loader._message``)."""
    if item["type"] == "extra_forbidden":
        return "unknown key"
    if item["type"] == "missing":
        return "missing required key"
    return item["msg"].removeprefix("Value error, ")


def _yaml_path(loc: tuple) -> tuple:
    return (f"{NAMESPACE}:{loc[0]}",) + tuple(loc[1:]) if loc else ()


# Namespaces a stack file may use besides ours: the providers' own settings (``azure-native:location``,
# ``aws:region``) and Pulumi's. Any other namespace is refused: a typo of ours would be ignored silently.
PROVIDER_NAMESPACES = ("azure-native", "azure", "aws", "aws-native", "pulumi")


class NoSuchStack(EpfwError, ValueError):
    """The stack has no stack file; the message names the stacks there are."""


def stack_dir(project_dir: Path) -> Path:
    """Where the project keeps its stack files (see :func:`.stack_dir.stack_config_dir`); a malformed
    ``Pulumi.yaml`` is a located error."""
    try:
        return stack_config_dir(project_dir)
    except yaml.YAMLError:
        settings = project_dir / "Pulumi.yaml"
        try:
            yaml_lines.load(settings.read_text(encoding="utf-8"), str(settings))
        except yaml_lines.YamlProblem as err:
            raise ConfigError([err.problem]) from None
        raise


def stack_file(project_dir: Path, stack: str) -> Path:
    """The stack file of ``stack`` (whether or not it exists): ``<stackConfigDir>/Pulumi.<stack>.yaml``."""
    return stack_dir(project_dir) / f"Pulumi.{stack}.yaml"


def stack_names(folder: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in folder.glob("Pulumi.*.yaml"))


def _no_such_stack(path: Path) -> NoSuchStack:
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    there = stack_names(path.parent) if path.parent.is_dir() else []
    known = f"stacks: {', '.join(there)}" if there else f"no stack files in {path.parent}"
    return NoSuchStack(f"no such stack {stack!r} ({known}; looked for {path})")


def namespace_problems(keys: Any, filename: str, lines: dict | None = None) -> list[Problem]:
    """Config keys outside our namespace and the providers' (a typo such as ``endpoint-firewal:selection``)."""
    known = (NAMESPACE, *PROVIDER_NAMESPACES)
    problems = []
    for key in keys:
        namespace, colon, name = str(key).partition(":")
        if colon and namespace in known:
            continue
        guess = difflib.get_close_matches(namespace, known, n=1, cutoff=0.6)
        hint = f"did you mean '{guess[0]}:{name}'? " if guess and colon else ""
        what = f"unknown namespace {namespace!r}" if colon else "a config key is written namespace:key"
        line = yaml_lines.line_of(lines, ("config", key)) if lines else 1
        problems.append(
            Problem(
                filename,
                line,
                str(key),
                f"{what}; {hint}this project reads {NAMESPACE}: keys, and "
                f"passes the providers' own ({', '.join(n + ':' for n in PROVIDER_NAMESPACES)})",
            )
        )
    return problems


def load_stack_file(path: Path) -> StackConfig:
    """Read ``config:`` of a stack file: our namespace is validated, keys of providers' namespaces (e.g.
    ``azure-native:location``) pass, any other namespace is refused."""
    name = str(path)
    if not path.exists():
        raise _no_such_stack(path)
    try:
        data, lines = yaml_lines.load(path.read_text(encoding="utf-8"), name)
    except yaml_lines.YamlProblem as err:
        raise ConfigError([err.problem]) from None
    config = (data or {}).get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        raise ConfigError([Problem(name, 1, "config", "a stack file has a 'config:' mapping")])
    problems = namespace_problems(config, name, lines)
    if problems:
        raise ConfigError(problems)
    values = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith(f"{NAMESPACE}:")}
    return parse(values, name, lines, ("config",))
