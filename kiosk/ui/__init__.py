"""The kiosk's Qt user interface (the only layer that imports Qt): window, pages, theme, demo inbox."""
