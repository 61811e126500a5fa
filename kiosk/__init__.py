"""Account recovery kiosk: a self-service password reset and unlock wizard."""

import os

# The kiosk uses no pydantic plugins. Unless told so, pydantic looks for plugins the first time a
# model is built by scanning the entry points of every installed distribution (importlib.metadata
# over all of site-packages), a cost paid on every start (bench/startup.py). setdefault: whoever
# does want plugins can still say so in the environment.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

__version__ = "0.1.0"
