"""Run rendered AWS rules in the real Suricata engine: syntax check (``suricata -T``) and flow replay.

AWS Network Firewall's stateful engine is Suricata. The harness writes every group of an
:class:`~endpoint_firewall.renderers.aws.render.AwsRender` (domain lists in AWS's documented generated form) with their
IP set variables into a scratch folder, replays a capture with one session per flow (``--simulate-ips``), and
reads ``eve.json``. Three modules, re-exported here under the names they always had:

* :mod:`.suricata_engine`: the binary, the rule set of a render (with the modelled policy default action), the
  engine's configuration, ``suricata -T``;
* :mod:`.suricata_capture`: packets and pcap files (sessions as a client really sends them, probes' raw payloads);
* :mod:`.suricata_replay`: the replay and the verdict per flow read from ``eve.json``.
"""

from __future__ import annotations

from .suricata_capture import (
    ACK,
    DEFAULT_DEST_V4,
    DEFAULT_DEST_V6,
    FIN,
    FIRST_CLIENT_PORT,
    PSH,
    RST,
    SPLIT_AT,
    SYN,
    Capture,
    Session,
    _ether,
    _ip,
    build_capture,
    client_hello,
    http_request,
    icmp_echo,
    server_hello,
    session_frames,
    session_packets,
    sessions_for,
    tcp_segment,
    udp_datagram,
    write_capture,
    write_pcap,
)
from .suricata_engine import (
    HARNESS_SID,
    POLICY_DEFAULT_MODELS,
    SURICATA_ENV,
    TIMEOUT_SECONDS,
    RuleRef,
    RulesCheck,
    Ruleset,
    SuricataError,
    SuricataUnavailable,
    check_rules,
    find_suricata,
    require_suricata,
    ruleset,
    suricata_version,
)
from .suricata_replay import ENGINE_DROP, FlowVerdict, Replay, _engine, replay

__all__ = [  # the names this module had before the split (and the helpers the tests use)
    "ACK",
    "Capture",
    "DEFAULT_DEST_V4",
    "DEFAULT_DEST_V6",
    "ENGINE_DROP",
    "FIN",
    "FIRST_CLIENT_PORT",
    "FlowVerdict",
    "HARNESS_SID",
    "POLICY_DEFAULT_MODELS",
    "PSH",
    "RST",
    "Replay",
    "RuleRef",
    "RulesCheck",
    "Ruleset",
    "SPLIT_AT",
    "SURICATA_ENV",
    "SYN",
    "Session",
    "SuricataError",
    "SuricataUnavailable",
    "TIMEOUT_SECONDS",
    "_engine",
    "_ether",
    "_ip",
    "build_capture",
    "check_rules",
    "client_hello",
    "find_suricata",
    "http_request",
    "icmp_echo",
    "replay",
    "require_suricata",
    "ruleset",
    "server_hello",
    "session_frames",
    "session_packets",
    "sessions_for",
    "suricata_version",
    "tcp_segment",
    "udp_datagram",
    "write_capture",
    "write_pcap",
]
