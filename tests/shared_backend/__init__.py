"""The shared backend's replicas (issue 12, part 5): real PostgreSQL, HAProxy and `kiosk serve` processes."""
