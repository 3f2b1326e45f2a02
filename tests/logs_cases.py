"""Denied flows of the prod stack whose verdicts are the same on both clouds (the catalogue and the selection decide
them, not the cloud's rules), for tests/test_logs_aws.py (Suricata's alerts) and test_logs_azure.py (records from
Microsoft's schema)."""

from __future__ import annotations

from dataclasses import dataclass

from endpoint_firewall.checks.flow import Flow


@dataclass(frozen=True)
class Case:
    flow: Flow
    verdict: str
    entry: str | None  # an entry the verdict must name
    why: str  # words the explanation must contain
    parent_deny: bool = False  # Azure: the flow passes this stack's rules; a parent policy's rule denies it

    @property
    def key(self) -> tuple[str, int]:
        return self.flow.host or self.flow.ip or "", self.flow.port


PROD_CASES = [
    Case(Flow("ekop.intel.com", 443, "https"), "not-selected", "intune-173", "add autopilot to selection.serviceAreas"),
    Case(
        Flow("intunemaape7.neu.attest.azure.net", 443, "https"),
        "not-selected",
        "intune-attestation-europe",
        "add europe to selection.regions",
    ),
    Case(
        Flow("identity.apple.com", 443, "https"), "not-selected", "apple-mdm-server", "selection.includeOptional: true"
    ),
    Case(Flow("play.google.com", 443, "https"), "not-selected", None, "add android to selection.serviceAreas"),
    Case(  # Remote Help's web pubsub: an instance only the shared-tenant wildcard covers
        Flow("contoso-hub.webpubsub.azure.com", 443, "https"),
        "not-selected",
        "intune-187",
        "add remote-help to selection.serviceAreas; if contoso-hub.webpubsub.azure.com is your tenant's own instance, "
        "name it in selection.tenantInstances",
    ),
    Case(
        Flow("x7q2.queue.core.windows.net", 443, "https"), "unlisted", None, "an instance under queue.core.windows.net"
    ),
    Case(Flow("newhost.apple.com", 443, "https"), "unlisted", None, "apple.yaml:"),
    Case(Flow("courier.push.apple.com", 80, "http"), "unlisted", "apple-apns", "not on http:80"),
    Case(Flow("example.org", 443, "https"), "unlisted", None, "other traffic"),
    Case(Flow(None, 8443, "tcp", ip="192.0.2.80"), "unlisted", None, "other traffic"),
]


def check_verdicts(report: dict, cases: list[Case]) -> dict[tuple[str, int], dict]:
    """Every case among the denied destinations, with its verdict, entry and words; the denied items by key."""
    found = {(d["destination"], d["port"]): d for d in report["denied"]}
    for case in cases:
        assert case.key in found, (case.key, sorted(found))
        item = found[case.key]
        assert item["verdict"] == case.verdict, item
        assert case.entry is None or case.entry in item["entries"], item
        assert case.why in item["why"], item["why"]
    return found
