"""The backend's store (SQLite, embedded)."""
