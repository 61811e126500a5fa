"""A throwaway Samba AD DC (realm KIOSK.TEST, domain KIOSK) provisioned in a temporary directory.

Recipe: /work/shared/notes/real-servers.md section 2 (Samba 4.17, `-M single`, everything under the
temp dir, /etc untouched). Samba's LDAP ports cannot be changed: it listens on 389/636 of the
dedicated loopback address 127.0.0.2 (needs root), so only one instance at a time; a port in use
fails with a message naming it. Instead of Samba's self-signed certificate it serves one signed by
our throwaway CA (SAN 127.0.0.2 and dc1.kiosk.test), so clients verify it like OpenLDAP's.

Settings made here: `old password allowed period = 0` (else the old password still binds for an
hour after a reset); lockout threshold 3, lockout duration 0 (until unlocked), reset-after 30 min;
min password age 0. Provisioning defaults kept: complexity on, min length 7, history 24, max age 42 d.
The service account gets, by `samba-tool dsacl set` on OU=People (inherited by user objects):
Reset Password, Change Password, and write lockoutTime and pwdLastSet; otherwise it reads.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import ldap3
from ldap3.protocol.formatters.formatters import format_sid

from live_servers.certificates import make_tls_files
from live_servers.common import (
    LiveDirectory,
    LiveGroups,
    LiveServerError,
    LiveUser,
    ServerProcess,
    new_password,
    port_open,
    program,
    run,
)
from live_servers.users import ADMIN_GROUP, ENABLED_GROUP, NESTED_GROUP, user_specs

HOST = "127.0.0.2"
REALM = "KIOSK.TEST"
DOMAIN = "KIOSK"
BASE_DN = "DC=kiosk,DC=test"
PEOPLE_DN = f"OU=People,{BASE_DN}"
GROUPS_DN = f"OU=Groups,{BASE_DN}"
SERVICES_DN = f"OU=Services,{BASE_DN}"
SERVICE_DN = f"CN=kiosk-service,{SERVICES_DN}"
ADMIN_DN = f"CN=Administrator,CN=Users,{BASE_DN}"
GROUP_NAMES = {ENABLED_GROUP: "SSPR-Users", NESTED_GROUP: "SSPR-Nested", ADMIN_GROUP: "Kiosk-Admins"}
NORMAL_ACCOUNT, DISABLED_ACCOUNT = 512, 514

POLICY = {
    "complexity": "on (default)",
    "min_password_length": 7,
    "password_history_length": 24,
    "min_password_age_days": 0,
    "max_password_age_days": 42,
    "account_lockout_threshold": 3,
    "account_lockout_duration_minutes": 0,
    "reset_account_lockout_after_minutes": 30,
    "old_password_allowed_period_minutes": 0,
}

# Extended rights and attributes (schema GUIDs) delegated to the service account.
RESET_PASSWORD = "00299570-246d-11d0-a768-00aa006e0529"
CHANGE_PASSWORD = "ab721a53-1e2f-11d0-9819-00aa0040529b"
LOCKOUT_TIME = "28630ebf-41d5-11d1-a9c1-0000f80367c1"
PWD_LAST_SET = "bf967a0a-0de6-11d0-a285-00aa003049e2"
USER_CLASS = "bf967aba-0de6-11d0-a285-00aa003049e2"


def _require_ports() -> None:
    if os.geteuid() != 0:
        raise LiveServerError(
            "Samba AD DC needs root: its LDAP ports are fixed at 389/636 and provisioning writes NT ACLs"
        )
    busy = [port for port in (389, 636) if port_open(HOST, port)]
    if busy:
        raise LiveServerError(
            f"{HOST} port(s) {busy} already in use: Samba's LDAP ports are fixed, so only one Samba AD fixture can run "
            "at a time (another test run, or a left-over `samba` process? see `ss -ltnp`)"
        )


def _add(connection: ldap3.Connection, dn: str, object_class: list[str], attributes: dict[str, object]) -> None:
    if not connection.add(dn, object_class, attributes):
        raise LiveServerError(f"Samba refused to add {dn}: {connection.result}")


def _provision(directory: LiveDirectory, passwords: dict[str, str], samba_tool: str, conf: Path) -> None:
    connection = directory.connect()
    try:
        for dn in (PEOPLE_DN, GROUPS_DN, SERVICES_DN):
            _add(connection, dn, ["organizationalUnit"], {})
        _add(
            connection,
            SERVICE_DN,
            ["user"],
            {
                "sAMAccountName": "kiosk-service",
                "userPrincipalName": f"kiosk-service@{REALM.lower()}",
                "unicodePwd": f'"{directory.service_password}"'.encode("utf-16-le"),
                "userAccountControl": NORMAL_ACCOUNT,
            },
        )
        for user in directory.users.values():
            attributes: dict[str, object] = {
                "sAMAccountName": user.login,
                "userPrincipalName": f"{user.login}@{REALM.lower()}",
                "displayName": user.display_name,
                "givenName": user.display_name.split(" ")[0],
                "sn": user.display_name.split(" ")[-1],
                "unicodePwd": f'"{passwords[user.login]}"'.encode("utf-16-le"),
                "userAccountControl": DISABLED_ACCOUNT if user.disabled else NORMAL_ACCOUNT,
            }
            for name, value in (("mail", user.mail), ("mobile", user.mobile), ("telephoneNumber", user.telephone)):
                if value:
                    attributes[name] = value
            _add(connection, user.dn, ["user"], attributes)
        role_of = {name: role for role, name in GROUP_NAMES.items()}
        members: dict[str, list[str]] = {role: [] for role in GROUP_NAMES}
        for user in directory.users.values():
            for name in user.groups:
                members[role_of[name]].append(user.dn)
        members[ENABLED_GROUP].append(directory.groups.nested_dn)
        for role in (NESTED_GROUP, ENABLED_GROUP, ADMIN_GROUP):
            name = GROUP_NAMES[role]
            _add(connection, f"CN={name},{GROUPS_DN}", ["group"], {"sAMAccountName": name, "member": members[role]})
        connection.search(SERVICE_DN, "(objectClass=user)", search_scope=ldap3.BASE, attributes=["objectSid"])
        sid = format_sid(connection.entries[0].objectSid.raw_values[0])
    finally:
        connection.unbind()
    aces = "".join(
        f"(OA;CIIO;{right};{guid};{USER_CLASS};{sid})"
        for right, guid in (("CR", RESET_PASSWORD), ("CR", CHANGE_PASSWORD), ("WP", LOCKOUT_TIME), ("WP", PWD_LAST_SET))
    )
    run(
        [
            samba_tool,
            "dsacl",
            "set",
            "-s",
            str(conf),
            "-H",
            str(Path(directory.workdir, "private", "sam.ldb")),
            f"--objectdn={PEOPLE_DN}",
            f"--sddl={aces}",
        ],
        "samba-tool dsacl set (delegating to kiosk-service)",
    )
    for user in directory.users.values():
        if user.locked:  # real failed binds: Samba counts badPwdCount and sets lockoutTime
            for attempt in range(int(POLICY["account_lockout_threshold"])):
                if directory.bind_ok(user.dn, f"wrong-{attempt}-{new_password()}"):
                    raise LiveServerError(f"a wrong password bound as {user.dn}")
            computed = directory.read(user.dn, ["msDS-User-Account-Control-Computed"])
            if not int(computed["msDS-User-Account-Control-Computed"][0]) & 0x10:
                raise LiveServerError(f"{user.dn} is not locked after failed binds: {computed}")


SD_DACL = 0x04
"""LDAP_SERVER_SD_FLAGS: DACL_SECURITY_INFORMATION (read or write only the DACL)."""
SE_DACL_PROTECTED = 0x1000
"""Security descriptor control bit: the DACL inherits nothing from the parent (SDDL `D:P`)."""
DOMAIN_ADMINS_DN = f"CN=Domain Admins,CN=Users,{BASE_DN}"


def protect_like_sdprop(live: LiveDirectory, dn: str) -> None:
    """Do to `dn` what Windows' SDProp does to a member of a protected group (Domain Admins …): copy
    AdminSDHolder's DACL onto it with inheritance off, and set adminCount = 1.

    Samba 4.17 runs no SDProp (measured: a new Domain Admins member keeps its inherited ACL and gets no
    adminCount), so the harness applies it by hand; the result is the real AdminSDHolder ACL, in which
    the service account's delegation on OU=People does not reach the account.
    """
    from ldap3.protocol.microsoft import security_descriptor_control

    control = security_descriptor_control(sdflags=SD_DACL)
    connection = live.connect()
    try:
        holder_dn = f"CN=AdminSDHolder,CN=System,{BASE_DN}"
        connection.search(
            holder_dn, "(objectClass=*)", ldap3.BASE, attributes=["nTSecurityDescriptor"], controls=control
        )
        holder = connection.response[0]["raw_attributes"]["nTSecurityDescriptor"][0]
        flags = int.from_bytes(holder[2:4], "little") | SE_DACL_PROTECTED
        protected = holder[:2] + flags.to_bytes(2, "little") + holder[4:]
        changes = {
            "nTSecurityDescriptor": [(ldap3.MODIFY_REPLACE, [protected])],
            "adminCount": [(ldap3.MODIFY_REPLACE, ["1"])],
        }
        if not connection.modify(dn, changes, controls=control):
            raise LiveServerError(f"Samba refused AdminSDHolder's ACL on {dn}: {connection.result}")
    finally:
        connection.unbind()


@contextlib.contextmanager
def protected_admin(live: LiveDirectory, login: str) -> Iterator[LiveUser]:
    """A user in OU=People for the block: a Domain Admins member (protected as SDProp would) and in the
    enabled group, with a mail address and a mobile; deleted afterwards (other tests share the server)."""
    password = new_password()
    user = LiveUser(
        login=login, dn=f"CN={login},{PEOPLE_DN}", password=password, display_name=f"{login.title()} Protected",
        mail=f"{login}@{REALM.lower()}", mobile="+15550100099", telephone="", groups=(GROUP_NAMES[ENABLED_GROUP],),
        locked=False, disabled=False, is_admin=False, enabled_member=True, covers="protected Domain Admins member",
    )  # fmt: skip
    connection = live.connect()
    try:
        _add(
            connection,
            user.dn,
            ["user"],
            {
                "sAMAccountName": login, "userPrincipalName": f"{login}@{REALM.lower()}",
                "displayName": user.display_name, "mail": user.mail, "mobile": user.mobile,
                "unicodePwd": f'"{password}"'.encode("utf-16-le"), "userAccountControl": NORMAL_ACCOUNT,
            },
        )  # fmt: skip
        for group in (DOMAIN_ADMINS_DN, live.groups.enabled_dn):
            if not connection.modify(group, {"member": [(ldap3.MODIFY_ADD, [user.dn])]}):
                raise LiveServerError(f"Samba refused {user.dn} as a member of {group}: {connection.result}")
        protect_like_sdprop(live, user.dn)
        yield user
    finally:
        connection.delete(user.dn)  # its group memberships go with it
        connection.unbind()


@contextlib.contextmanager
def granted(live: LiveDirectory, dn: str, grantee_dn: str, rights: tuple[tuple[str, str], ...]) -> Iterator[None]:
    """Explicit allow ACEs on `dn` for `grantee_dn` for the block, e.g. `(("WP", LOCKOUT_TIME),)`; the entry's
    DACL as it was is written back afterwards (other tests share the server)."""
    from ldap3.protocol.microsoft import security_descriptor_control

    control = security_descriptor_control(sdflags=SD_DACL)
    connection = live.connect()
    try:
        connection.search(grantee_dn, "(objectClass=*)", ldap3.BASE, attributes=["objectSid"])
        sid = format_sid(connection.response[0]["raw_attributes"]["objectSid"][0])
        connection.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["nTSecurityDescriptor"], controls=control)
        before = connection.response[0]["raw_attributes"]["nTSecurityDescriptor"][0]
        aces = "".join(f"(OA;;{right};{guid};;{sid})" for right, guid in rights)
        samba_tool = program("samba-tool")
        conf, database = Path(live.workdir, "etc", "smb.conf"), Path(live.workdir, "private", "sam.ldb")
        run([samba_tool, "dsacl", "set", "-s", str(conf), "-H", str(database), f"--objectdn={dn}", f"--sddl={aces}"],
            "samba-tool dsacl set (a test's extra rights)")  # fmt: skip
        try:
            yield
        finally:
            restore = {"nTSecurityDescriptor": [(ldap3.MODIFY_REPLACE, [before])]}
            if not connection.modify(dn, restore, controls=control):
                raise LiveServerError(f"Samba refused the old ACL of {dn} back: {connection.result}")
    finally:
        connection.unbind()


def start_samba_ad() -> LiveDirectory:
    """Provision and start a Samba AD DC in a fresh temporary directory.

    The caller must `stop()` it and delete `workdir`.
    """
    samba, samba_tool = program("samba"), program("samba-tool")
    _require_ports()
    work = Path(tempfile.mkdtemp(prefix="kiosk-samba-"))
    try:
        run_dir = work / "run"
        admin_password = new_password()
        run(
            [
                samba_tool, "domain", "provision", "--use-rfc2307", f"--realm={REALM}", f"--domain={DOMAIN}",
                "--server-role=dc", "--dns-backend=NONE", f"--adminpass={admin_password}", f"--targetdir={work}",
                "--host-name=dc1", f"--option=interfaces={HOST}/8", "--option=bind interfaces only=yes",
                "--option=server services=ldap", "--option=disable netbios=yes",
                f"--option=pid directory={run_dir}", f"--option=ncalrpc dir={run_dir}/ncalrpc",
                f"--option=winbindd socket directory={run_dir}/winbindd",
                f"--option=ntp signd socket directory={run_dir}/ntp_signd", f"--option=log file={work}/log/log.%m",
            ],
            "samba-tool domain provision",
        )  # fmt: skip
        (work / "log").mkdir(exist_ok=True)
        run_dir.mkdir(exist_ok=True)
        tls = make_tls_files(work, (HOST, f"dc1.{REALM.lower()}"), "Samba AD")
        conf = work / "etc" / "smb.conf"
        extra = (
            "\n\told password allowed period = 0\n\ttls enabled = yes\n"
            f"\ttls keyfile = {tls.key_file}\n\ttls certfile = {tls.cert_file}\n\ttls cafile = {tls.ca_file}\n"
        )
        conf.write_text(re.sub(r"^\[global\]$", "[global]" + extra.rstrip("\n"), conf.read_text(), count=1, flags=re.M))
        run(
            [samba_tool, "domain", "passwordsettings", "set", "-s", str(conf), "--account-lockout-threshold=3",
             "--account-lockout-duration=0", "--reset-account-lockout-after=30", "--min-pwd-age=0"],
            "samba-tool domain passwordsettings set",
        )  # fmt: skip
        log = work / "samba.log"
        process = ServerProcess(
            [samba, "-s", str(conf), "-F", "--debug-stdout", "-d", "1", "-M", "single", "--maximum-runtime=14400"],
            log,
            lambda: port_open(HOST, 636),
            "samba",
        )
        passwords: dict[str, str] = {}
        users: dict[str, LiveUser] = {}
        for spec in user_specs(REALM.lower()):
            passwords[spec.login] = new_password()
            groups = tuple(GROUP_NAMES[role] for role in spec.groups)
            users[spec.login] = LiveUser(
                login=spec.login,
                dn=f"CN={ldap3.utils.dn.escape_rdn(spec.display_name)},{PEOPLE_DN}",
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
            kind="samba_ad",
            host=HOST,
            port=389,
            ldaps_port=636,
            ldaps_url=f"ldaps://{HOST}:636",
            ldap_url=f"ldap://{HOST}:389",
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
                enabled_dn=f"CN={GROUP_NAMES[ENABLED_GROUP]},{GROUPS_DN}",
                nested=GROUP_NAMES[NESTED_GROUP],
                nested_dn=f"CN={GROUP_NAMES[NESTED_GROUP]},{GROUPS_DN}",
                admin=GROUP_NAMES[ADMIN_GROUP],
                admin_dn=f"CN={GROUP_NAMES[ADMIN_GROUP]},{GROUPS_DN}",
            ),
            workdir=str(work),
            log_file=str(log),
            policy=dict(POLICY),
            _process=process,
        )
        process.start()
        _provision(directory, passwords, samba_tool, conf)
        return directory
    except BaseException:
        if "process" in locals():
            process.stop()
        shutil.rmtree(work, ignore_errors=True)
        raise
