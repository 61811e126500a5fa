"""What `kiosk diagnose` and the diagnostics page check, and how they probe the wire."""
