"""What the Learn-page importers share: a page's value read as a catalogue destination (PageContext.destination)."""

from __future__ import annotations

import pytest

from endpoint_firewall.catalogue_tools.importers.learn_page import PageContext
from endpoint_firewall.catalogue_tools.importers.page_fixups import NO_FIXUPS
from endpoint_firewall.endpoints.errors import CatalogueError
from endpoint_firewall.endpoints.models import DestinationKind

CONTEXT = PageContext("page.md", NO_FIXUPS, "https://learn.microsoft.com/intune/fundamentals/endpoints")
NAMES = (DestinationKind.FQDN, DestinationKind.WILDCARD)
ANY_VALUE = (*NAMES, DestinationKind.NETWORK)


@pytest.mark.parametrize(
    "value, kind, imported",
    [
        ("enroll.manage.example.com", DestinationKind.FQDN, "enroll.manage.example.com"),
        ("Enroll.Manage.Example.COM", DestinationKind.FQDN, "enroll.manage.example.com"),  # names are lowercased
        ("enroll.manage.example.com.", DestinationKind.FQDN, "enroll.manage.example.com"),  # the root dot goes
        ("*.Manage.Example.com", DestinationKind.WILDCARD, "*.manage.example.com"),
        ("manage.example.com", DestinationKind.FQDN, "manage.example.com"),  # an apex is a name like any
    ],
)
def test_a_name_or_wildcard_is_read_normalised(value, kind, imported):
    dest = CONTEXT.destination(value, 7, repr(value), NAMES, "URL")
    assert (dest.kind, dest.value) == (kind, imported)


def test_an_address_is_read_only_where_the_import_takes_addresses():
    dest = CONTEXT.destination("192.0.2.0/24", 7, "'192.0.2.0/24'", ANY_VALUE, "address")
    assert (dest.kind, dest.value) == (DestinationKind.NETWORK, "192.0.2.0/24")
    with pytest.raises(CatalogueError) as err:
        CONTEXT.destination("192.0.2.10", 7, "'192.0.2.10' in #typo", NAMES, "URL")
    assert str(err.value) == (
        "page.md:7: page: '192.0.2.10' in #typo is a destination of kind network, which the page import does not take"
    )


@pytest.mark.parametrize("value", ["0.0.0.0/0", "::/0", "*"])
def test_what_allows_everything_is_never_read_from_a_page(value):
    with pytest.raises(CatalogueError) as err:
        CONTEXT.destination(value, 3, repr(value), ANY_VALUE, "address")
    (problem,) = err.value.problems
    assert (problem.line, problem.message) == (
        3,
        f"{value!r} is a destination of kind any, which the page import does not take",
    )


@pytest.mark.parametrize("value", ["ekop.intel..com", "swdc02.manage.example<.com", "*.com", "a.*.example.com"])
def test_a_value_that_is_no_destination_fails_at_its_line_naming_the_fixups_file(value):
    with pytest.raises(CatalogueError) as err:
        CONTEXT.destination(value, 12, f"{value!r} in #typo", NAMES, "URL")
    (problem,) = err.value.problems
    assert problem.file == "page.md" and problem.line == 12
    assert problem.message.startswith(f"{value!r} in #typo is not a host name, wildcard or URL (")
    assert problem.message.endswith(f"); correct it with a fix-up in {NO_FIXUPS.file}")
