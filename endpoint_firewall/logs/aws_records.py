"""AWS Network Firewall log records, as AWS delivers them, to :class:`~.records.Record`.

AWS, "Contents of a AWS Network Firewall log" (docs.aws.amazon.com/network-firewall/latest/developerguide/
firewall-logging-contents.html, read 2026-12-04): every record is one JSON object ``{"firewall_name",
"availability_zone", "event_timestamp" (epoch seconds, UTC), "event"}``, where ``event`` is Suricata's EVE JSON
record: alert logs use the EVE type ``alert``, flow logs the type ``netflow`` ("uni-directional flows, so each
event represents traffic going in a single direction"). An alert carries ``alert.action`` (``blocked`` for a drop
or reject, ``allowed`` for an alert rule's match), ``alert.signature_id`` and ``alert.signature``, the 5-tuple
(``src_ip``, ``src_port``, ``dest_ip``, ``dest_port``, ``proto``), ``app_proto`` and, when the application layer
was parsed, ``tls.sni`` and ``http.hostname`` (Suricata's EVE format, docs.suricata.io/en/suricata-7.0.10/
output/eve/eve-json-format.html). AWS delivers the records as JSON lines: to S3 in gzip objects, to CloudWatch
Logs as one log event each, to Firehose.

The wrappers a CloudWatch Logs export puts around them (:func:`messages`): the event list of ``aws logs
get-log-events`` and ``filter-log-events`` (``{"events": [{"timestamp", "message", ...}]}``, botocore's
``OutputLogEvent`` and ``FilteredLogEvent`` shapes), the ``logEvents`` of a subscription's record, a Logs Insights
result (``@message``, botocore's ``ResultField``), and the lines of an export task to S3 (``000000.gz`` objects):
AWS's pages do not show those; they are ``<ISO time> <message>`` lines as users report them (awsdocs/
amazon-route53-docs#9: "the additional timestamp field is added by CloudWatch logs ... once exported to S3";
darold/pgbadger#654), and a ``{"timestamp", "message"}`` line is read too.
"""

from __future__ import annotations

from typing import Any

from .records import ALERT, NETFLOW, Record, address, host_name, port_number, utc_time

# eve's alert.action (Suricata: "allowed" or "blocked"; a reject is logged as blocked)
_ACTIONS = {"blocked": "deny", "rejected": "deny", "allowed": "allow"}
_APP_PROTOCOLS = {"tls": "tls", "http": "http", "http1": "http"}
_TRANSPORTS = {"ipv6-icmp": "icmp", "icmpv6": "icmp"}


def is_firewall_record(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("event"), dict) and "event_timestamp" in data


def record(data: dict[str, Any]) -> Record | None:
    """The record of one AWS Network Firewall log line (None for event types that say nothing here, such as
    TLS inspection errors). Raises ValueError for a field of the wrong type."""
    event = data["event"]
    kind = event.get("event_type")
    if kind not in (ALERT, NETFLOW):
        return None
    src, dst = event.get("src_ip"), event.get("dest_ip")
    src_port, dst_port = event.get("src_port"), event.get("dest_port")
    if event.get("direction") == "to_client":  # a drop of the server's packet: the device is the destination
        src, dst, src_port, dst_port = dst, src, dst_port, src_port
    app = str(event.get("app_proto") or "").lower()
    transport = str(event.get("proto") or "").lower()
    protocol = _APP_PROTOCOLS.get(app) or _TRANSPORTS.get(transport, transport or "unknown")
    tls, http = event.get("tls"), event.get("http")
    host = (host_name(tls.get("sni")) if isinstance(tls, dict) else None) or (
        host_name(http.get("hostname")) if isinstance(http, dict) else None
    )
    when = utc_time(event.get("timestamp") or data.get("event_timestamp"))
    if kind == NETFLOW:
        return Record(NETFLOW, None, when, address(src), host, address(dst), port_number(dst_port), protocol)
    alert = event.get("alert")
    if not isinstance(alert, dict):
        raise ValueError("an alert event without its alert object")
    sid = alert.get("signature_id")
    return Record(
        ALERT,
        _ACTIONS.get(str(alert.get("action", "")).lower()),  # type: ignore[arg-type]  # the mapping's values
        when,
        address(src),
        host,
        address(dst),
        port_number(dst_port),
        protocol,
        rule=f"sid:{sid}" if sid is not None else None,
        note=str(alert.get("signature") or "") or None,
    )


def messages(data: Any) -> list[Any] | None:
    """The log events a CloudWatch Logs answer or subscription record holds on one line, else None."""
    if isinstance(data, dict):
        for key in ("events", "logEvents"):
            if isinstance(data.get(key), list):
                return data[key]
    return None


def message_of(item: Any) -> str | None:
    """A CloudWatch Logs event's ``message`` (botocore: ``OutputLogEvent.message``), or Logs Insights' ``@message``."""
    if isinstance(item, dict):
        value = item.get("message", item.get("@message"))
        return value if isinstance(value, str) else None
    return None
