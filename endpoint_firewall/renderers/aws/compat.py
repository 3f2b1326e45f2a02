"""AWS Network Firewall's own rules for stateful rule groups, checked on every render.

AWS is stricter than Suricata's parser: ``suricata -T`` loads rules that ``CreateRuleGroup`` refuses. Every check
here is one rule AWS documents, or one of Suricata's own (AWS runs Suricata); :data:`AWS_RULES` is the one list
of them, each with its documented words and where they are written. :func:`problems` reads the rendered text (not the renderer's intentions) and returns one
:class:`Problem` per broken rule, naming the group, the rule (its sid) and AWS's rule; the renderer turns any
into a render error, so nothing AWS would refuse is ever written.

Pure: plain values in, plain values out (no cloud SDK, no I/O).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..suricata_text import ParsedRule, parse_suricata
from .suricata import expanded_length, referenced_variables

CAVEATS = "https://docs.aws.amazon.com/network-firewall/latest/developerguide/suricata-limitations-caveats.html"
QUOTAS = "https://docs.aws.amazon.com/network-firewall/latest/developerguide/quotas.html"
RULES_SOURCE = "https://docs.aws.amazon.com/network-firewall/latest/APIReference/API_RulesSource.html"
SURICATA_SID = "https://docs.suricata.io/en/suricata-7.0.10/rules/meta.html#sid-signature-id"
SURICATA_HTTP_HOST = "https://docs.suricata.io/en/suricata-7.0.10/rules/http-keywords.html#http-host-and-http-host-raw"


@dataclass(frozen=True)
class AwsRule:
    key: str
    says: str  # AWS's words (quoted from ``source``)
    source: str


# The one list of what is checked, with AWS's words. Quotes are verbatim from the page named; parentheses are ours.
AWS_RULES: dict[str, AwsRule] = {
    r.key: r
    for r in (
        AwsRule("dataset", "Datasets. The keywords dataset and datarep aren't allowed.", CAVEATS),
        AwsRule("iprep", "IP reputation. The iprep keyword is not allowed.", CAVEATS),
        AwsRule("lua", "Lua scripting.", CAVEATS),
        AwsRule("threshold", "Thresholding.", CAVEATS),
        AwsRule("geoip", "GeoIP.", CAVEATS),
        AwsRule("file", "File extraction. File keywords aren't allowed.", CAVEATS),
        AwsRule(
            "bits-tracking",
            "xbits and hostbits with host or IP-level tracking (track ip_src, track ip_dst, or track ip_pair).",
            CAVEATS,
        ),
        AwsRule("tag-host", "tag:host.", CAVEATS),
        AwsRule(
            "protocol",
            "ENIP/CIP keywords. | FTP-data protocol detection. | SCTP protocol. | IKEv2 protocol. | "
            "QUIC protocol detection and QUIC related application level protocols such as HTTP3. "
            "(items of the not-supported list; page versions differ)",
            CAVEATS,
        ),
        AwsRule("ip-in-ip", "IP-in-IP protocol. (a rule matching IP protocol 4 or 94 positively)", CAVEATS),
        AwsRule(
            "http2",
            "HTTP/2 overloading. (the http2 protocol or http2.* keywords; AWS's http keywords see HTTP/1 only)",
            CAVEATS,
        ),
        AwsRule(
            "app-layer-session-holding",
            "Application drop established (bidirectional) and Application drop "
            "established (server-directed only) default rules are incompatible with "
            "a session-holding configuration.",
            CAVEATS,
        ),
        AwsRule(
            "groups-per-policy",
            "Maximum number of stateful rule groups per firewall [policy] ... (the stored "
            "copy of the quotas page cuts the row there; 20, immutable)",
            QUOTAS,
        ),
        AwsRule(
            "action",
            "Rules actions except for pass, drop, reject, and alert. Pass, drop, reject, and alert are supported.",
            CAVEATS,
        ),
        AwsRule(
            "priority",
            "You can't use the priority keyword if the RuleOrder option in StatefulRuleOptions is set to STRICT_ORDER.",
            RULES_SOURCE,
        ),
        AwsRule(
            "pcre",
            "In payload keywords, the pcre keyword is only allowed with content, tls.sni, http.host, and "
            "dns.query keywords.",
            CAVEATS,
        ),
        # (the stored copy of the caveats page cuts these two sentences where the "..." stands)
        AwsRule(
            "variables", "To create a rule that requires a variable, you must specify the variable in the ...", CAVEATS
        ),
        AwsRule(
            "home-external",
            "If you want a rule group to use settings for HOME_NET and EXTERNAL_NET that are "
            "differen[t] ... (a group that sets HOME_NET sets EXTERNAL_NET too)",
            CAVEATS,
        ),
        AwsRule(
            "sid",
            "(Suricata, not an AWS page) every signature has its own sid; one engine runs all groups of "
            "a policy, so a sid appears once across them",
            SURICATA_SID,
        ),
        # Quoted from the section "http.host and http.host.raw" of Suricata's rule keywords (doc/userguide/rules/
        # http-keywords.rst); Suricata 7.0.10 refuses such a rule ("A pattern with uppercase characters detected
        # for http.host", measured with suricata -T), but loads one with a transform (dotprefix), which then never
        # matches: a name that was meant to be allowed would be dropped
        AwsRule(
            "http-host-lowercase",
            "(Suricata, which AWS runs) The http.host buffer is normalized to be all lower case. | The nocase "
            "keyword is not allowed anymore. Keep in mind that you need to specify a lowercase pattern.",
            SURICATA_HTTP_HOST,
        ),
        AwsRule(
            "rule-size",
            "Maximum character length of a Suricata rule. Each variable value in the rule counts "
            "towards this limit. | 8,192",
            QUOTAS,
        ),
        AwsRule(
            "rules-string-size",
            "Maximum size of a Suricata-compatible rules string for a rule group, in bytes. | 2,000,000",
            QUOTAS,
        ),
    )
}

# Keywords per unsupported feature (Suricata 7 names, legacy spellings included).
FORBIDDEN_KEYWORDS: dict[str, str] = {
    **dict.fromkeys(("dataset", "datarep"), "dataset"),
    "iprep": "iprep",
    **dict.fromkeys(("lua", "luajit"), "lua"),
    **dict.fromkeys(("threshold", "detection_filter"), "threshold"),
    "geoip": "geoip",
    **dict.fromkeys(
        (
            "filemd5",
            "filesha1",
            "filesha256",
            "filestore",
            "filename",
            "fileext",
            "filemagic",
            "filesize",
            "file.data",
            "file_data",
            "file.name",
            "file.magic",
            "file_name",
        ),
        "file",
    ),
    "hostbits": "bits-tracking",  # tracked by host, always
}
ACTIONS = frozenset({"pass", "drop", "reject", "alert"})
UNSUPPORTED_PROTOCOLS = frozenset({"sctp", "ikev2", "ike", "quic", "enip", "cip", "ftp-data"})
UNSUPPORTED_KEYWORD_HEADS = ("quic.", "ike.", "ikev2.", "enip", "cip_")
IP_IN_IP = frozenset({"4", "94", "ipencap", "ip-encap", "ipip"})  # /etc/protocols: 4 IP-ENCAP, 94 IPIP
# What a policy's stateful default actions may not be with session holding (the caveats' "Application drop
# established" actions, bidirectional and server-directed only)
APP_LAYER_DROP_ACTIONS = frozenset({"aws:drop_established_app_layer", "aws:drop_established_app_layer_to_server"})
PCRE_PARTNERS = frozenset({"content", "tls.sni", "http.host", "dns.query"})
RULE_MAX_CHARS = 8_192
GROUPS_PER_POLICY_MAX = 20
RULES_STRING_MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class GroupText:
    """What :func:`problems` reads of one rule group: its name, its rules (a RulesString group's text, or the
    rules AWS generates for a domain list), its IP set variables, and whether it is a RulesString group."""

    name: str
    rules: Sequence[str]
    variables: Mapping[str, Sequence[str]]
    rules_string: str | None  # None: a domain list (AWS writes the rules and picks their sids)


@dataclass(frozen=True)
class Problem:
    group: str
    sid: str | None
    rule: AwsRule
    detail: str

    def __str__(self) -> str:
        where = f"group {self.group}" + (f", rule sid {self.sid}" if self.sid else "")
        return f'{where}: {self.detail}; AWS: "{self.rule.says}" ({self.rule.source})'


def _problem(group: str, sid: str | None, key: str, detail: str) -> Problem:
    return Problem(group, sid, AWS_RULES[key], detail)


def _rule_problems(group: GroupText, rule: ParsedRule, strict: bool, rule_max: int) -> Iterable[Problem]:
    sid = rule.option("sid")
    keys = [name.lower() for name, _ in rule.options]
    if rule.action not in ACTIONS:
        yield _problem(group.name, sid, "action", f"action {rule.action!r}")
    if rule.proto in UNSUPPORTED_PROTOCOLS:
        yield _problem(group.name, sid, "protocol", f"protocol {rule.proto}")
    if rule.proto == "http2" or any(key.startswith("http2.") for key in keys):
        yield _problem(group.name, sid, "http2", "HTTP/2 protocol or keyword")
    for key in keys:
        if key in FORBIDDEN_KEYWORDS:
            yield _problem(group.name, sid, FORBIDDEN_KEYWORDS[key], f"keyword {key}")
        elif key.startswith(UNSUPPORTED_KEYWORD_HEADS):
            yield _problem(group.name, sid, "protocol", f"keyword {key}")
    for name, value in rule.options:
        key, text = name.lower(), (value or "").lower()
        if key == "xbits" and re.search(r"track\s+ip_(src|dst|pair)", text):
            yield _problem(group.name, sid, "bits-tracking", f"xbits:{value}")
        if key == "tag" and text.split(",")[0].strip() == "host":
            yield _problem(group.name, sid, "tag-host", f"tag:{value}")
        if key == "ip_proto" and text.strip() in IP_IN_IP:
            yield _problem(group.name, sid, "ip-in-ip", f"ip_proto:{value}")
    for content, modifiers, buffer in rule.host_buffer_matches():
        if buffer != "http.host":
            continue
        matched = _content_bytes(content)
        if matched != matched.lower():
            yield _problem(group.name, sid, "http-host-lowercase", f'http.host content "{content}" has uppercase')
        if "nocase" in modifiers:
            yield _problem(group.name, sid, "http-host-lowercase", f'http.host content "{content}" with nocase')
    if strict and "priority" in keys:
        yield _problem(group.name, sid, "priority", "priority in a STRICT_ORDER group")
    if "pcre" in keys and not PCRE_PARTNERS & set(keys):
        yield _problem(group.name, sid, "pcre", "pcre without content, tls.sni, http.host or dns.query")
    missing = sorted(referenced_variables(rule.text) - set(group.variables))
    if missing:
        yield _problem(group.name, sid, "variables", f"uses {', '.join('$' + m for m in missing)}, not defined here")
    length = expanded_length(rule.text, group.variables)
    if length > rule_max:
        yield _problem(
            group.name, sid, "rule-size", f"{length} characters with its variables expanded (limit {rule_max})"
        )


def _content_bytes(content: str) -> bytes:
    """The bytes a ``content`` pattern matches: its text as written, ``|41 42|`` as the bytes of those hex digits."""
    out = bytearray()
    for i, part in enumerate(content.split("|")):
        try:
            out += bytes.fromhex(part) if i % 2 else part.encode()
        except ValueError:  # not hex after all: Suricata refuses the rule; judge the text as written
            out += part.encode()
    return bytes(out)


def problems(
    groups: Sequence[GroupText],
    strict: bool,
    rule_max: int = RULE_MAX_CHARS,
    rules_string_max: int = RULES_STRING_MAX_BYTES,
    groups_max: int = GROUPS_PER_POLICY_MAX,
) -> list[Problem]:
    """Every way the groups of one firewall policy break :data:`AWS_RULES` (empty: AWS accepts them)."""
    out: list[Problem] = []
    if len(groups) > groups_max:
        out.append(
            _problem(
                groups[-1].name,
                None,
                "groups-per-policy",
                f"{len(groups)} stateful rule groups in one firewall policy (limit {groups_max}: "
                "aws.limits.statefulGroupsPerPolicy)",
            )
        )
    sids: dict[str, str] = {}
    for group in groups:
        if "HOME_NET" in group.variables and "EXTERNAL_NET" not in group.variables:
            out.append(_problem(group.name, None, "home-external", "sets HOME_NET but not EXTERNAL_NET"))
        if group.rules_string is not None and len(group.rules_string.encode()) > rules_string_max:
            out.append(
                _problem(
                    group.name,
                    None,
                    "rules-string-size",
                    f"rules string of {len(group.rules_string.encode())} bytes (limit {rules_string_max})",
                )
            )
        for rule in parse_suricata("\n".join(group.rules)):
            out.extend(_rule_problems(group, rule, strict, rule_max))
            sid = rule.option("sid")
            if group.rules_string is None or not sid:
                continue
            if sid in sids:
                out.append(_problem(group.name, sid, "sid", f"sid {sid} is also in group {sids[sid]}"))
            sids.setdefault(sid, group.name)
    return out
