"""A name resolves exactly when the firewall would let its traffic through: the DNS layer's verdict against the
firewall's for every name of the demo stacks' plans, the names below and at the apex of every wildcard, below every
exact name, the stacks' extraNames, look-alikes, a tunnel and foreign instances of shared-tenant suffixes
(:mod:`endpoint_firewall.checks.dns_compare`). Azure's firewall is judged by its documented rule order, AWS's in
Suricata. A difference passes only where a reported widening (or extraNames) explains it; any other fails.

The stacks are checked with the layer in mode block (dev ships in mode alert, its rollout; prod blocks). Run with
``-s`` to print every name with both verdicts.
"""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest
from conftest import ROOT

from endpoint_firewall.checks import dns_compare
from endpoint_firewall.checks.dns_compare import TUNNEL
from endpoint_firewall.config.dns_config import DnsMode
from endpoint_firewall.config.stack_config import load_stack_file
from endpoint_firewall.planning.selection import SharedTenantMode
from endpoint_firewall.program.render import StackRender, render_config
from endpoint_firewall.renderers.dns_names import DnsList

HOSTILE_BLOCKED = (
    "manage.microsoft.com.evil.example",
    "evilmanage.microsoft.com",
    "login.microsoftonline.com.attacker.example",
    TUNNEL,
    "attacker-hub.webpubsub.azure.com",
    "attackerstore.blob.core.windows.net",
)


def blocking(stack: str, **selection) -> StackRender:
    config = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    if selection:
        config = config.model_copy(update={"selection": config.selection.model_copy(update=selection)})
    assert config.aws and config.aws.dns and config.azure and config.azure.dns
    aws = config.aws.model_copy(update={"dns": config.aws.dns.model_copy(update={"mode": DnsMode.BLOCK})})
    azure = config.azure.model_copy(update={"dns": config.azure.dns.model_copy(update={"mode": DnsMode.BLOCK})})
    return render_config(stack, config.model_copy(update={"aws": aws, "azure": azure}), ROOT)


def cases(rendered: StackRender, cloud: str):
    layer = getattr(rendered, cloud).dns
    return dns_compare.name_cases(rendered.plan, [n.name for n in layer.names if "extraNames" in n.entries])


def compare(rendered: StackRender, cloud: str, all_cases=None):
    all_cases = all_cases if all_cases is not None else cases(rendered, cloud)
    if cloud == "azure":
        assert rendered.azure is not None
        return dns_compare.compare_azure(rendered.azure, rendered.plan, all_cases)
    assert rendered.aws is not None
    source = str(next(ipaddress.ip_network(rendered.plan.source_ranges[0]).hosts()))
    return dns_compare.compare_aws(rendered.aws, rendered.plan, all_cases, source)


def check(comparisons, capsys=None) -> None:
    if capsys is not None:
        with capsys.disabled():
            print("\n" + "\n".join(dns_compare.table(comparisons)))
    unexplained = [line for line in dns_compare.table(comparisons) if "UNEXPLAINED" in line]
    assert not unexplained, "\n".join(unexplained)
    by_name = {c.case.name: c for c in comparisons}
    for c in comparisons:
        if c.case.why == "listed" and c.firewall:  # every name of the catalogue the firewall passes resolves
            assert c.dns.resolves, c.case.name
    for name in HOSTILE_BLOCKED:  # look-alikes, the tunnel, a foreign storage account: blocked on both layers
        assert not by_name[name].dns.resolves and not by_name[name].firewall, name


def counts(key: str, comparisons) -> None:
    """The figures of one comparison, shown with ``-s``."""
    differ = sum(not c.agrees for c in comparisons)
    resolve = sum(c.dns.resolves for c in comparisons)
    print(f"{key}: {len(comparisons)} names, {resolve} resolve, {differ} differ from the firewall (each explained)")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_azure_resolves_exactly_what_its_firewall_passes(stack, request, capsys):
    rendered = blocking(stack)
    comparisons = compare(rendered, "azure")
    check(comparisons, capsys if request.config.getoption("capture") == "no" else None)
    counts(f"azure {stack}", comparisons)
    # what differs is Azure's own widening, reported: a listed name's subdomains, a wildcard's apex
    assert all(
        "DNS layer's reported widening" in c.explained
        for c in comparisons
        if not c.agrees and "extra" not in c.case.why
    )


@pytest.mark.usefixtures("suricata")
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_aws_resolves_exactly_what_its_firewall_passes(stack, request, capsys):
    rendered = blocking(stack)
    comparisons = compare(rendered, "aws")
    check(comparisons, capsys if request.config.getoption("capture") == "no" else None)
    counts(f"aws {stack}", comparisons)
    differ = [c for c in comparisons if not c.agrees and "extra" not in c.case.why]
    if stack == "prod":  # exact names on exact ports: the two layers say the same of every name
        assert differ == []
    else:  # domain lists: a target .x.com also passes x.com, which the DNS layer (and the catalogue) does not
        assert differ and all("firewall's reported widening" in c.explained for c in differ)
        assert all(c.case.why.startswith("the apex of") for c in differ)


def test_the_comparison_fails_when_the_layers_drift():
    """A name the DNS layer drops that the firewall passes, or one it adds that the firewall does not: unexplained."""
    rendered = blocking("prod")
    dns = rendered.azure.dns
    allowed = dns.lists[0]
    dropped = "login.microsoftonline.com"
    assert dropped in allowed.domains
    kept = tuple(d for d in allowed.domains if d != dropped)
    drifted = dataclasses.replace(
        dns,
        lists=(DnsList(allowed.name, (*kept, "attacker.example"), allowed.members), *dns.lists[1:]),
    )
    broken = dataclasses.replace(rendered, azure=dataclasses.replace(rendered.azure, dns=drifted))
    extra = [dns_compare.NameCase("x.attacker.example", "made up", (("https", 443),))]
    table = dns_compare.table(compare(broken, "azure", cases(broken, "azure") + extra))
    unexplained = [line for line in table if "UNEXPLAINED" in line]
    assert any(line.startswith(f"{dropped} ") for line in unexplained), unexplained
    assert any(line.startswith("x.attacker.example ") for line in unexplained), unexplained


def test_a_foreign_instance_of_a_shared_tenant_suffix_follows_the_plan():
    """The planner leaves shared-tenant wildcards out by default (``selection.sharedTenantWildcards: exact``) and
    keeps the instances the source lists: Remote Help's Web PubSub hub resolves, anyone else's does not, on both
    layers. With ``sharedTenantWildcards: allow`` the wildcard is deployed (reported as open to any tenant) and both
    layers let any hub through: the DNS layer follows the plan, it never decides on its own."""
    ours, theirs = "amsua0101-remoteassistservice-pubsub.webpubsub.azure.com", "attacker-hub.webpubsub.azure.com"
    extra = [dns_compare.NameCase(ours, "the listed instance", (("https", 443),))]
    for selection, expected in (({}, False), ({"shared_tenant_wildcards": SharedTenantMode.ALLOW}, True)):
        rendered = blocking("dev", **selection)
        found = {c.case.name: c for c in compare(rendered, "azure", cases(rendered, "azure") + extra)}
        assert found[ours].agrees and found[ours].dns.resolves
        assert found[theirs].agrees and found[theirs].dns.resolves is expected, (selection, found[theirs])


def test_alert_mode_resolves_everything_and_says_which_names_the_catch_all_took():
    rendered = render_config("dev", load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml"), ROOT)
    assert rendered.azure.dns.mode is DnsMode.ALERT
    comparisons = compare(rendered, "azure")
    assert all(c.dns.resolves for c in comparisons)
    caught = {c.case.name for c in comparisons if c.dns.rule and c.dns.rule.endswith("/everything-else")}
    assert set(HOSTILE_BLOCKED) <= caught  # the names block mode will refuse are the ones the alerts show
