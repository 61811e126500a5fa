"""The `kiosk` command line: run the kiosk, and the administrator's tools."""
