"""Real servers for the live tests: throwaway OpenLDAP (slapd + ppolicy), Samba AD DC, PostgreSQL, HAProxy.

Plain helper modules, imported by the session fixtures in `tests/conftest.py` and the live tests:

- `common`: the fixture API (`LiveDirectory`, `LiveUser`, `LiveGroups`), processes, ports, passwords.
- `certificates`: a throwaway CA, the server certificate it signs, and a second CA that signed nothing.
- `users`: the users both directories get, and which branch of the kiosk each one covers.
- `openldap`, `samba_ad`: provisioning and starting each server in a temporary directory.
- `kiosk_setup`: a kiosk policy on a live server, the FAKE keyring holding its service password, and
  putting a user back as provisioned (shared by tests/services/backend/directories and tests/e2e).
- `fake_keyring`: the FAKE in-memory keyring backend.
- `postgres`: a throwaway PostgreSQL cluster (initdb in a temporary folder) for the shared backend's store.
- `haproxy`, `replicas`: HAProxy in the foreground and `kiosk serve` replicas behind it (tests/shared_backend).
"""
