"""The user IDs people type at a Windows sign-in screen, as Active Directory search conditions.

Besides what `attributes.user_id` lists (UPN, sAMAccountName, e-mail), Windows accepts two forms the
directory holds nowhere as such:

- `DOMAIN\\user`: the domain's NetBIOS name (the `nETBIOSName` of its crossRef in CN=Partitions of the
  configuration naming context) and the sAMAccountName. The prefix compares case-insensitively; any
  other prefix finds nobody (another domain's account is not this directory's to reset);
- the implicit UPN `user@dns-domain`: the sAMAccountName at the domain's DNS name (the crossRef's
  `dnsRoot`), whatever suffix the account's own userPrincipalName has, or none.

Both become RFC 4515-escaped filter values like every typed ID, OR-ed with the usual conditions, so
an ID that two entries answer to is still refused as ambiguous. Only the Active Directory adapter
uses this: on OpenLDAP a backslash is just a character.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kiosk.services.backend.directory.ldap import escape_filter_value

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DomainNames:
    """The two names of an Active Directory domain ('' when the directory did not tell)."""

    netbios: str
    """e.g. `CONTOSO`, the prefix of `CONTOSO\\user`."""
    dns: str
    """e.g. `contoso.com`, the suffix of the implicit UPN."""


def dns_name_of(naming_context: str) -> str:
    """The DNS name a domain naming context stands for: `DC=contoso,DC=com` -> `contoso.com`."""
    labels = []
    for part in naming_context.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().casefold() == "dc" and value.strip():
            labels.append(value.strip())
    return ".".join(labels).casefold()


def _first(attributes: dict[str, Any], name: str) -> str:
    value = attributes.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return "" if value is None else str(value)


def read_domain_names(connection: Any) -> DomainNames:
    """Read the bound domain's NetBIOS and DNS names: rootDSE, then its crossRef (blocking).

    Every authenticated account may read CN=Partitions; when it cannot (or the crossRef lacks a
    name), `DOMAIN\\user` finds nobody and the DNS name falls back to the naming context's DC parts.
    """
    import ldap3

    connection.search(
        "",
        "(objectClass=*)",
        search_scope=ldap3.BASE,
        attributes=["defaultNamingContext", "configurationNamingContext"],
    )
    root: dict[str, Any] = next((e["attributes"] for e in connection.response if e.get("type") == "searchResEntry"), {})
    default_nc, configuration_nc = _first(root, "defaultNamingContext"), _first(root, "configurationNamingContext")
    netbios, dns = "", dns_name_of(default_nc)
    if default_nc and configuration_nc:
        connection.search(
            f"CN=Partitions,{configuration_nc}",
            f"(&(objectClass=crossRef)(nCName={escape_filter_value(default_nc)}))",
            search_scope=ldap3.LEVEL,
            attributes=["nETBIOSName", "dnsRoot"],
        )
        found = [e["attributes"] for e in connection.response if e.get("type") == "searchResEntry"]
        if found:
            netbios = _first(found[0], "nETBIOSName")
            dns = _first(found[0], "dnsRoot").casefold() or dns
    if not netbios:
        log.warning(
            "the domain's NetBIOS name could not be read from CN=Partitions (%s): DOMAIN\\user IDs find nobody",
            configuration_nc or "no configuration naming context in the rootDSE",
        )
    return DomainNames(netbios=netbios, dns=dns)


def identifier_condition(
    user_id: str, attributes: Iterable[str], login_attribute: str, domain: DomainNames
) -> str | None:
    """The filter condition a typed `user_id` stands for on Active Directory, or None when it finds nobody.

    `DOMAIN\\user` is matched against the login attribute only; any other ID against every attribute
    in `attributes`, and also, when it ends in `@<the domain's DNS name>`, its local part against the
    login attribute (the implicit UPN).
    """
    if "\\" in user_id:
        prefix, _, name = user_id.partition("\\")
        if not domain.netbios or prefix.casefold() != domain.netbios.casefold() or not name or "\\" in name:
            return None
        return f"({login_attribute}={escape_filter_value(name)})"
    conditions = [(name, user_id) for name in attributes]
    local, at, suffix = user_id.rpartition("@")
    if at and local and domain.dns and suffix.casefold() == domain.dns.casefold():
        conditions.append((login_attribute, local))
    return "(|" + "".join(f"({name}={escape_filter_value(value)})" for name, value in conditions) + ")"
