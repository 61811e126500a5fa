"""Policy settings of the LDAP directories (Active Directory, OpenLDAP): connection, search, attributes.

The service account's password is never a setting: it lives in the OS keyring (`kiosk secrets set
directory`). Plain `ldap://` is refused unless StartTLS is on, because every write needs TLS.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from kiosk.policy.section import PolicySection

_NAME = Annotated[str, Field(min_length=1, max_length=256)]
_ATTRIBUTE = Annotated[str, Field(max_length=128, pattern=r"^([A-Za-z][A-Za-z0-9-]*)?$")]



class PwdLastSet(StrEnum):
    """What an Active Directory reset writes to pwdLastSet."""

    UNEXPIRE = "unexpire"
    MUST_CHANGE = "must_change"


class LdapAttributes(PolicySection):
    """Names of the directory attributes the kiosk reads ('' = not used); SPEC §3's fallback order applies."""

    user_id: tuple[Annotated[str, Field(min_length=1, max_length=128)], ...] = Field(
        default=("uid", "mail"), min_length=1, description="Attributes a typed user ID is matched against."
    )
    login: _ATTRIBUTE = Field(default="uid", description="Attribute holding the account name shown in audit.")
    display_name: _ATTRIBUTE = Field(default="cn", description="Attribute holding the user's display name.")
    immutable_id: _ATTRIBUTE = Field(
        default="entryUUID", description="Immutable id that keys registered questions and app secrets."
    )
    auth_email: _ATTRIBUTE = Field(default="mail", description="Authentication e-mail (first choice for codes).")
    alt_email: _ATTRIBUTE = Field(default="", description="Alternate e-mail (used when there is no auth e-mail).")
    auth_phone: _ATTRIBUTE = Field(default="", description="Authentication phone (first choice for SMS/calls).")
    mobile_phone: _ATTRIBUTE = Field(default="mobile", description="Mobile phone (used when no auth phone).")
    office_phone: _ATTRIBUTE = Field(default="telephoneNumber", description="Office phone (voice calls).")
    group_name: _ATTRIBUTE = Field(default="cn", description="Attribute of a group entry that holds its name.")


class ActiveDirectoryAttributes(LdapAttributes):
    """Attribute names of Active Directory, with AD's defaults."""

    user_id: tuple[Annotated[str, Field(min_length=1, max_length=128)], ...] = Field(
        default=("userPrincipalName", "sAMAccountName", "mail"),
        min_length=1,
        description="Attributes a typed user ID is matched against (UPN, sAMAccountName, e-mail).",
    )
    login: _ATTRIBUTE = Field(default="sAMAccountName", description="Attribute holding the account name.")
    display_name: _ATTRIBUTE = Field(default="displayName", description="Attribute holding the display name.")
    immutable_id: _ATTRIBUTE = Field(default="objectGUID", description="Immutable id (objectGUID).")
    alt_email: _ATTRIBUTE = Field(default="otherMailbox", description="Alternate e-mail.")
    auth_phone: _ATTRIBUTE = Field(default="otherMobile", description="Authentication phone.")


class _LdapConnectionSettings(PolicySection):
    """How the backend reaches and searches an LDAP directory."""

    urls: tuple[Annotated[str, Field(min_length=8, max_length=512)], ...] = Field(
        min_length=1, description="Server URLs, tried in order: ldaps://host:636 (or ldap:// with start_tls)."
    )
    start_tls: bool = Field(default=False, description="Upgrade ldap:// connections with StartTLS.")
    ca_file: str = Field(default="", max_length=1024, description="PEM file of the CA that signed the server.")
    insecure_skip_tls_verify: bool = Field(
        default=False, description="TESTS ONLY: do not verify the server certificate (never in production)."
    )
    base_dn: str = Field(min_length=1, max_length=1024, description="The directory's base DN.")
    user_search_base: str = Field(default="", max_length=1024, description="Where users are searched ('' = base).")
    group_search_base: str = Field(default="", max_length=1024, description="Where groups are searched ('' = base).")
    bind_dn: str = Field(min_length=1, max_length=1024, description="The service account's bind DN (or UPN).")
    connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60, description="Seconds to wait for a connection.")
    operation_timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="Seconds to wait for an answer.")
    pool_size: int = Field(default=4, ge=1, le=32, description="Connections kept open to the directory.")
    admin_groups: tuple[_NAME, ...] = Field(
        default=(), description="Members of these groups (nested too) are administrators (2 gates, no questions)."
    )

    @model_validator(mode="after")
    def _tls_for_every_connection(self) -> _LdapConnectionSettings:
        for url in self.urls:
            scheme = url.split("://", 1)[0].lower() if "://" in url else ""
            if scheme not in ("ldap", "ldaps"):
                raise ValueError(f"{url!r} is not an LDAP URL: use ldaps://host:636")
            if scheme == "ldap" and not self.start_tls:
                raise ValueError(
                    f"{url!r} is plain LDAP, which would send passwords in clear: use ldaps://, or set start_tls = true"
                )
        if self.insecure_skip_tls_verify and self.ca_file:
            raise ValueError("give either ca_file or insecure_skip_tls_verify, not both")
        return self


class ActiveDirectorySettings(_LdapConnectionSettings):
    """An Active Directory domain (writes unicodePwd, lockoutTime and pwdLastSet)."""

    pwd_last_set: PwdLastSet = Field(
        default=PwdLastSet.UNEXPIRE,
        description="After a reset: unexpire (-1) or must_change (0 = change at next sign-in).",
    )
    attributes: ActiveDirectoryAttributes = Field(
        default=ActiveDirectoryAttributes(), description="Names of the attributes read from AD."
    )


class OpenLdapSettings(_LdapConnectionSettings):
    """An OpenLDAP directory with the ppolicy overlay (password modify, pwdAccountLockedTime)."""

    attributes: LdapAttributes = Field(default=LdapAttributes(), description="Names of the attributes read.")
