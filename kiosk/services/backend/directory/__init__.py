"""Where users live: the `Directory` protocol and its adapters (embedded, OpenLDAP, Active Directory)."""
