"""The audit trail: events, the hash chain, reading it back, forwarding to syslog."""
