"""The administrator policy: schema, loading and validation."""
