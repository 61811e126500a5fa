"""A throwaway OpenLDAP slapd with the ppolicy overlay, provisioned in a temporary directory.

Recipe: /work/shared/notes/real-servers.md section 1 (Debian 12 slapd 2.5, ppolicy schema built in,
`ppolicy_hash_cleartext` so cleartext writes are stored hashed). slapd listens on free loopback
ports, plain `ldap://` and `ldaps://`, with a certificate signed by a throwaway CA (SAN 127.0.0.1
and localhost). No memberof overlay (the recipe does not show it): nesting is resolved by search.

Policy (`cn=default,ou=policies`): pwdLockout TRUE, pwdMaxFailure 3, pwdLockoutDuration 0 (locked
until unlocked), pwdInHistory 3, pwdMinLength 8, pwdCheckQuality 2 (too short is refused).
ACLs: the service account writes userPassword, pwdAccountLockedTime and pwdReset and reads the rest;
users change their own password; the rootdn is used for provisioning (and `read()`) only.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import cast

import ldap3
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from live_servers.certificates import make_tls_files
from live_servers.common import (
    LiveDirectory,
    LiveGroups,
    LiveServerError,
    LiveUser,
    ServerProcess,
    free_port,
    new_password,
    port_open,
    program,
    run,
)
from live_servers.users import ADMIN_GROUP, ENABLED_GROUP, NESTED_GROUP, user_specs

HOST = "127.0.0.1"
BASE_DN = "dc=example,dc=test"
PEOPLE_DN = f"ou=people,{BASE_DN}"
GROUPS_DN = f"ou=groups,{BASE_DN}"
SERVICE_DN = f"cn=kiosk-service,ou=services,{BASE_DN}"
ADMIN_DN = f"cn=admin,{BASE_DN}"
POLICY_DN = f"cn=default,ou=policies,{BASE_DN}"
GROUP_NAMES = {ENABLED_GROUP: "sspr-users", NESTED_GROUP: "sspr-nested", ADMIN_GROUP: "kiosk-admins"}
DISABLED_MARK = "000001010000Z"
"""pwdAccountLockedTime for an administratively disabled (hard-locked) account."""

POLICY = {
    "pwdLockout": "TRUE",
    "pwdMaxFailure": 3,
    "pwdLockoutDuration": 0,
    "pwdInHistory": 3,
    "pwdMinLength": 8,
    "pwdCheckQuality": 2,
    "pwdAllowUserChange": "TRUE",
    "pwdMustChange": "FALSE",
}

_CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {work}/slapd.pid
argsfile {work}/slapd.args
TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}
database mdb
maxsize 104857600
suffix "{base}"
rootdn "{admin}"
rootpw {rootpw}
directory {work}/data
access to attrs=userPassword
  by dn.exact="{service}" write
  by self write
  by anonymous auth
  by * none
access to attrs=pwdAccountLockedTime,pwdReset
  by dn.exact="{service}" write
  by users read
  by * none
access to *
  by users read
  by * none
overlay ppolicy
ppolicy_default "{policy}"
ppolicy_use_lockout
ppolicy_hash_cleartext
"""


def _add(connection: ldap3.Connection, dn: str, object_class: list[str], attributes: dict[str, object]) -> None:
    if not connection.add(dn, object_class, attributes):
        raise LiveServerError(f"slapd refused to add {dn}: {connection.result}")


def _provision(directory: LiveDirectory, passwords: dict[str, str]) -> None:
    connection = ldap3.Connection(
        ldap3.Server(HOST, port=directory.port, get_info=ldap3.NONE),
        user=ADMIN_DN,
        password=directory.admin_password,
        auto_bind=True,
    )
    try:
        _add(connection, BASE_DN, ["dcObject", "organization"], {"dc": "example", "o": "Kiosk live test"})
        for ou in ("people", "groups", "services", "policies"):
            _add(connection, f"ou={ou},{BASE_DN}", ["organizationalUnit"], {"ou": ou})
        _add(
            connection, POLICY_DN, ["device", "pwdPolicy"], {"cn": "default", "pwdAttribute": "userPassword", **POLICY}
        )
        _add(
            connection,
            SERVICE_DN,
            ["applicationProcess", "simpleSecurityObject"],
            {"cn": "kiosk-service", "userPassword": directory.service_password},
        )
        for user in directory.users.values():
            spec_attributes: dict[str, object] = {
                "uid": user.login,
                "cn": user.display_name,
                "sn": user.display_name.split(" ")[-1],
                "displayName": user.display_name,
                "userPassword": passwords[user.login],
            }
            for name, value in (("mail", user.mail), ("mobile", user.mobile), ("telephoneNumber", user.telephone)):
                if value:
                    spec_attributes[name] = value
            _add(connection, user.dn, ["inetOrgPerson"], spec_attributes)
        members: dict[str, list[str]] = {role: [] for role in GROUP_NAMES}
        role_of = {name: role for role, name in GROUP_NAMES.items()}
        for user in directory.users.values():
            for name in user.groups:
                members[role_of[name]].append(user.dn)
        members[ENABLED_GROUP].append(directory.groups.nested_dn)
        for role in (NESTED_GROUP, ENABLED_GROUP, ADMIN_GROUP):
            dn = f"cn={GROUP_NAMES[role]},{GROUPS_DN}"
            _add(connection, dn, ["groupOfNames"], {"cn": GROUP_NAMES[role], "member": members[role]})
        for user in directory.users.values():
            if user.disabled and not connection.modify(
                user.dn, {"pwdAccountLockedTime": [(ldap3.MODIFY_REPLACE, [DISABLED_MARK])]}
            ):
                raise LiveServerError(f"cannot disable {user.dn}: {connection.result}")
        # Keep each DN as slapd writes it back (it hex-escapes: a `\,` in the RDN comes back as `\2C`).
        users = cast(dict[str, LiveUser], directory.users)
        for login, user in users.items():
            connection.search(PEOPLE_DN, f"(uid={escape_filter_chars(login)})", attributes=[])
            users[login] = replace(user, dn=connection.entries[0].entry_dn)
    finally:
        connection.unbind()
    for user in directory.users.values():
        if user.locked:  # real failed binds: ppolicy counts them and sets pwdAccountLockedTime
            for attempt in range(int(POLICY["pwdMaxFailure"])):
                if directory.bind_ok(user.dn, f"wrong-{attempt}-{new_password()}"):
                    raise LiveServerError(f"a wrong password bound as {user.dn}")
            if "pwdAccountLockedTime" not in directory.read(user.dn, ["pwdAccountLockedTime"]):
                raise LiveServerError(f"{user.dn} is not locked after {POLICY['pwdMaxFailure']} failed binds")


def start_openldap() -> LiveDirectory:
    """Provision and start slapd in a fresh temporary directory; the caller must `stop()` and delete `workdir`."""
    slapd, slappasswd, slaptest = program("slapd"), program("slappasswd"), program("slaptest")
    work = Path(tempfile.mkdtemp(prefix="kiosk-slapd-"))
    try:
        (work / "data").mkdir()
        tls = make_tls_files(work, (HOST, "localhost"), "OpenLDAP")
        admin_password = new_password()
        rootpw = run([slappasswd, "-s", admin_password], "slappasswd").strip()
        (work / "slapd.conf").write_text(
            _CONFIG.format(
                work=work,
                ca=tls.ca_file,
                cert=tls.cert_file,
                key=tls.key_file,
                base=BASE_DN,
                admin=ADMIN_DN,
                rootpw=rootpw,
                service=SERVICE_DN,
                policy=POLICY_DN,
            )
        )
        run([slaptest, "-f", str(work / "slapd.conf"), "-u"], "slaptest")
        port, ldaps_port = free_port(HOST), free_port(HOST)
        log = work / "slapd.log"
        process = ServerProcess(
            [
                slapd,
                "-f",
                str(work / "slapd.conf"),
                "-h",
                f"ldap://{HOST}:{port}/ ldaps://{HOST}:{ldaps_port}/",
                "-d",
                "0",
            ],
            log,
            lambda: port_open(HOST, port) and port_open(HOST, ldaps_port),
            "slapd",
        )
        passwords: dict[str, str] = {}
        users: dict[str, LiveUser] = {}
        for spec in user_specs("example.test"):
            passwords[spec.login] = new_password()
            rdn = f"cn={escape_rdn(spec.common_name)}" if spec.common_name else f"uid={spec.login}"
            groups = tuple(GROUP_NAMES[role] for role in spec.groups)
            users[spec.login] = LiveUser(
                login=spec.login,
                dn=f"{rdn},{PEOPLE_DN}",
                password=passwords[spec.login],
                display_name=spec.display_name,
                mail=spec.mail,
                mobile=spec.mobile,
                telephone=spec.telephone,
                groups=groups,
                locked=spec.locked,
                disabled=spec.disabled,
                is_admin=ADMIN_GROUP in spec.groups,
                enabled_member=bool({ENABLED_GROUP, NESTED_GROUP} & set(spec.groups)),
                covers=spec.covers,
            )
        directory = LiveDirectory(
            kind="openldap",
            host=HOST,
            port=port,
            ldaps_port=ldaps_port,
            ldaps_url=f"ldaps://{HOST}:{ldaps_port}",
            ldap_url=f"ldap://{HOST}:{port}",
            ca_file=str(tls.ca_file),
            wrong_ca_file=str(tls.wrong_ca_file),
            base_dn=BASE_DN,
            people_dn=PEOPLE_DN,
            groups_dn=GROUPS_DN,
            service_bind_dn=SERVICE_DN,
            service_password=new_password(),
            admin_bind_dn=ADMIN_DN,
            admin_password=admin_password,
            users=users,
            groups=LiveGroups(
                enabled=GROUP_NAMES[ENABLED_GROUP],
                enabled_dn=f"cn={GROUP_NAMES[ENABLED_GROUP]},{GROUPS_DN}",
                nested=GROUP_NAMES[NESTED_GROUP],
                nested_dn=f"cn={GROUP_NAMES[NESTED_GROUP]},{GROUPS_DN}",
                admin=GROUP_NAMES[ADMIN_GROUP],
                admin_dn=f"cn={GROUP_NAMES[ADMIN_GROUP]},{GROUPS_DN}",
            ),
            workdir=str(work),
            log_file=str(log),
            policy=dict(POLICY),
            _process=process,
        )
        process.start()
        _provision(directory, passwords)
        return directory
    except BaseException:
        if "process" in locals():
            process.stop()
        shutil.rmtree(work, ignore_errors=True)
        raise
