"""Account recovery kiosk: a self-service password reset and unlock wizard."""

__version__ = "0.1.0"
