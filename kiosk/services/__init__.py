"""Services: the typed backend client and the bundled backend."""
