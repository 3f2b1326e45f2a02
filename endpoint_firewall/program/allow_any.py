"""The stack's allow_any exceptions: rules that reach every destination because a catalogue entry says so,
with a written justification. ``epfw render`` writes them as a CrossGuard pack config (``policy-config.json``)
and ``epfw preview`` passes the same to the guardrails: the ``no-allow-any`` policy leaves these rules to the
advisory ``allow-any-exception`` policy, which names them with their justification. Any other rule that
reaches every destination stays a mandatory violation."""

from __future__ import annotations

import json

from ..endpoints.loader import Catalogue
from ..endpoints.names import ANY_NETWORKS
from ..planning.address_rules import AddressRules, rendered_rules
from ..planning.rules import Plan, Rule, RuleKind
from ..renderers.azure.model import azure_name

ANY_DESTINATIONS = ANY_NETWORKS | {"*"}
POLICY_CONFIG_FILE = "policy-config.json"
_TRANSPORT_SUFFIXES = ("", "-tcp", "-udp")  # Azure network rules split per transport when the ports differ


def allow_any_exceptions(catalogue: Catalogue, plan: Plan) -> dict[str, str]:
    """Rule name (as each cloud writes it: Azure rule names, the plan rule name AWS msgs start with) -> the
    ids and justifications of the allow_any entries that make the rule reach every destination."""
    out: dict[str, str] = {}
    justification = {e.id: e.allow_any.justification for e in catalogue.entries if e.allow_any is not None}
    if not any(e in justification for r in plan.rules for _, ids in r.origins for e in ids):
        return out  # no exception without an allow_any entry: the address views need not be built
    for rule in _named_rules(plan):
        entries = sorted(
            {e for d in rule.destinations if d in ANY_DESTINATIONS for e in rule.origin_of(d) if e in justification}
        )
        if not entries:
            continue
        why = "; ".join(f"entry {e}: {justification[e]}" for e in entries)
        split = len({s.protocol.transport for s in rule.services}) > 1
        for suffix in _TRANSPORT_SUFFIXES if split else ("",):
            out[azure_name(rule.name + suffix)] = why
        out[rule.name] = why
    return dict(sorted(out.items()))


def _named_rules(plan: Plan) -> list[Rule]:
    """The plan's rules and every address rule a cloud may write instead (``addressRules``: its protocol and
    names-only views, which name a rule by the services as listed or by their transports)."""
    rules = list(plan.rules)
    for mode in (AddressRules.PROTOCOL, AddressRules.NAMES_ONLY):
        for keep in (True, False):
            rules += [r for r in rendered_rules(plan, mode, keep)[0] if r.kind is RuleKind.ADDRESS]
    return rules


def policy_config(exceptions: dict[str, str]) -> dict[str, dict]:
    """The CrossGuard pack config (``--policy-pack-config``) and ``epfw preview``'s guardrail config."""
    return {name: {"allowAnyExceptions": exceptions} for name in ("no-allow-any", "allow-any-exception")}


def policy_config_text(exceptions: dict[str, str]) -> str:
    return json.dumps(policy_config(exceptions), indent=2, ensure_ascii=False) + "\n"
