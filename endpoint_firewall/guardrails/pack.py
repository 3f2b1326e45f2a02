"""CrossGuard: the same checks as ``pulumi_policy`` policies, for ``policy/__main__.py``'s ``PolicyPack``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .resource_checks import ADVISORY_POLICIES, RESOURCE_CHECKS, RESOURCE_TYPES
from .stack_checks import STACK_CHECKS, StackFinding, StackResource

POLICY_DESCRIPTIONS = {
    "no-allow-any": (
        "No allow rule to or from every address or name (*, 0.0.0.0/0, ::/0, '.', any), but the declared "
        "allow_any exceptions (allowAnyExceptions)."
    ),
    "allow-any-exception": (
        "Advisory: the rules that reach every destination because a catalogue entry has allow_any "
        "with a justification (allowAnyExceptions), named with that justification."
    ),
    "no-public-suffix-wildcard": (
        "No wildcard on a public suffix (*.com, .co.uk, *.azurewebsites.net) or past a label "
        "(*contoso.com, an undotted Suricata suffix match)."
    ),
    "network-fqdn-needs-dns-proxy": "FQDN network rules need DNS proxy (classic firewall; declared external policies).",
    "aws-capacity-headroom": "AWS rule group capacity exceeds what its rules use.",
    "network-fqdn-needs-dns-proxy-stack": "FQDN network rules need their Firewall Policy's DNS proxy.",
    "rule-groups-serialized": "Rule collection groups and IP Groups of one Firewall Policy depend on each other in order.",
    "dns-no-allow-all": (
        "No DNS filter allow rule (Route 53 Resolver DNS Firewall, Azure DNS security policy) on every name ('*', "
        "'.') or every name under a public suffix."
    ),
    "dns-alert-only": "Advisory: a DNS filter's catch-all only alerts (a rollout): every name still resolves.",
}

_EXTERNAL_SCHEMA = {
    "externalPolicies": {
        "type": "object",
        "description": "Firewall Policies managed outside the stack: name -> {dnsProxy: bool}",
        "additionalProperties": {"type": "object", "properties": {"dnsProxy": {"type": "boolean"}}},
    }
}
_EXCEPTIONS_SCHEMA = {
    "allowAnyExceptions": {
        "type": "object",
        "description": (
            "rule name (Azure rule name; first word of an AWS pass rule's msg) -> the "
            "justification of the allow_any entries behind it: what epfw render writes "
            "to policy-config.json"
        ),
        "additionalProperties": {"type": "string"},
    }
}
CONFIG_SCHEMAS: dict[str, dict[str, Any]] = {
    "no-allow-any": _EXCEPTIONS_SCHEMA,
    "allow-any-exception": _EXCEPTIONS_SCHEMA,
    "network-fqdn-needs-dns-proxy": _EXTERNAL_SCHEMA,
    "network-fqdn-needs-dns-proxy-stack": _EXTERNAL_SCHEMA,
    "aws-capacity-headroom": {
        "minHeadroom": {
            "type": "number",
            "minimum": 0,
            "default": 0,
            "description": "required spare capacity as a fraction of what is used",
        }
    },
}


def pulumi_policies() -> list[Any]:
    """The pack's ``pulumi_policy`` policies (imported here, lazily: the package does not need pulumi_policy)."""
    from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy

    def schema(name: str) -> Any:
        return PolicyConfigSchema(properties=CONFIG_SCHEMAS[name]) if name in CONFIG_SCHEMAS else None

    def resource_validator(check: Callable[..., list[str]]) -> Callable[[Any, Any], None]:
        def validate(args: Any, report_violation: Any) -> None:
            if args.resource_type not in RESOURCE_TYPES:
                return
            for message in check(args.resource_type, args.props, args.get_config()):
                report_violation(message, None)

        return validate

    def stack_validator(check: Callable[..., list[StackFinding]]) -> Callable[[Any, Any], None]:
        def validate(args: Any, report_violation: Any) -> None:
            resources = [StackResource.from_policy_resource(r) for r in args.resources]
            for urn, message in check(resources, args.get_config()):
                report_violation(message, urn)

        return validate

    policies: list[Any] = [
        ResourceValidationPolicy(
            name=name,
            description=POLICY_DESCRIPTIONS[name],
            validate=resource_validator(check),
            config_schema=schema(name),
            enforcement_level=EnforcementLevel.ADVISORY if name in ADVISORY_POLICIES else None,
        )
        for name, check in RESOURCE_CHECKS.items()
    ]
    policies += [
        StackValidationPolicy(
            name=name,
            description=POLICY_DESCRIPTIONS[name],
            validate=stack_validator(check),
            config_schema=schema(name),
            enforcement_level=EnforcementLevel.ADVISORY if name in ADVISORY_POLICIES else None,
        )
        for name, check in STACK_CHECKS.items()
    ]
    return policies
