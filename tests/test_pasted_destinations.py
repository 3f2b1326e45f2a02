"""A destination pasted as a URL, host:port or host/path is named for what it is, with what to write instead."""

from __future__ import annotations

import pytest

from endpoint_firewall.cli.main import main

CATALOGUE = """schema_version: 1
sources: [{{id: s, title: t, url: "https://example.org/", date: 2020-01-01}}]
service_areas: [{{id: a, title: A, priority: 3000}}]
entries:
  - id: e
    service_area: a
    description: d
    destinations: ["{value}"]
    services: [{{protocol: https, port: 443}}]
    provenance: {{source: s, section: x}}
"""


@pytest.mark.parametrize(
    "value, expected",
    [
        (
            "https://config.office.com",
            "is a URL, not a destination: write the host name 'config.office.com' and port 443 under services",
        ),
        (
            "https://login.microsoftonline.com/",
            "is a URL, not a destination: write the host name 'login.microsoftonline.com' and port 443 under services",
        ),
        (
            "http://user@example.org:8080/x?y",
            "is a URL, not a destination: write the host name 'example.org' and port 8080 under services",
        ),
        (
            "login.microsoftonline.com:443",
            "is a host and port, not a destination: write the host name "
            "'login.microsoftonline.com' and port 443 under services",
        ),
        ("config.office.com/path", "is a host and path, not a destination: write the host name 'config.office.com' ("),
    ],
)
def test_pasted_destinations_say_what_to_write(tmp_path, capsys, value, expected):
    path = tmp_path / "c.yaml"
    path.write_text(CATALOGUE.format(value=value))
    assert main(["validate", str(path)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"{path}:8: entries[0].destinations[0]: {value!r} ") and expected in line, line
    assert "IPv6" not in line


@pytest.mark.parametrize("value", ["10.0.0.0/8", "2001:db8::/32", "2001:db8::1", "login.microsoftonline.com"])
def test_addresses_prefixes_and_names_still_load(tmp_path, capsys, value):
    path = tmp_path / "c.yaml"
    path.write_text(CATALOGUE.format(value=value))
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
