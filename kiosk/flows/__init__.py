"""The local flow engine: turns backend answers into Step view-models (no Qt)."""
