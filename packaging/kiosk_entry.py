"""The frozen program's entry script (PyInstaller runs a script, not a console-script entry point)."""

from kiosk.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
