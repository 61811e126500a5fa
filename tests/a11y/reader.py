"""The screen reader's side of tests/a11y: reads the running kiosk through the AT-SPI bus, as Orca does.

Run with the SYSTEM Python and Debian's python3-pyatspi (never the project's venv): it knows nothing of
Qt or of the kiosk's code, only what the accessibility bus exports. It answers JSON commands, one a line
on standard input, with one JSON line on standard output:

- `{"cmd": "tree"}`: every showing node of the kiosk's window (role, name, description, states,
  screen extents, text, labelled-by names, path);
- `{"cmd": "events"}`: the events heard since the last call (announcements, focus, text and name
  changes, each with its source), then forgets them;
- `{"cmd": "keys", "keys": [...]}`: presses keys through the AT-SPI registry (XTest on X11), as an
  assistive technology or a user at the keyboard would, each a keysym name ("Tab") or one character;
- `{"cmd": "tab_cycle"}`: presses Tab until the focus comes back where it was, and returns each
  control that took the focus, as the focus events told it (role, name, screen extents);
- `{"cmd": "quit"}`.

It prints `{"ready": ...}` once the kiosk's application is on the bus (or an error, and exits 3).
"""

from __future__ import annotations

import json
import sys
import time
import traceback

try:
    import gi

    gi.require_version("Atspi", "2.0")
    import pyatspi
    from gi.repository import GLib
except ImportError as error:  # the test turns this into a clear failure
    print(json.dumps({"error": f"the screen reader cannot start: {error} (install python3-pyatspi)"}), flush=True)
    sys.exit(3)

APP_NAME = sys.argv[1] if len(sys.argv) > 1 else "kiosk-a11y"
EVENT_TYPES = (
    "object:announcement",
    "object:state-changed:focused",
    "object:state-changed:showing",
    "object:text-changed:insert",
    "object:text-changed:delete",
    "object:property-change:accessible-name",
    "object:property-change:accessible-description",
    "object:property-change:accessible-value",
    "object:value-changed",
)
STATES = {
    "focusable": pyatspi.STATE_FOCUSABLE,
    "focused": pyatspi.STATE_FOCUSED,
    "editable": pyatspi.STATE_EDITABLE,
    "enabled": pyatspi.STATE_ENABLED,
    "sensitive": pyatspi.STATE_SENSITIVE,
    "showing": pyatspi.STATE_SHOWING,
    "visible": pyatspi.STATE_VISIBLE,
    "checked": pyatspi.STATE_CHECKED,
}
# What Orca would read aloud from a node's text interface: never more than this (a page is short).
MAX_TEXT = 2000

heard: list[dict[str, object]] = []


def safe(call, default=None):  # type: ignore[no-untyped-def]
    """An AT-SPI call on a node that may have gone (a page rebuilt meanwhile): None instead of an error."""
    try:
        return call()
    except Exception:  # noqa: BLE001 - GLib.Error, dbus errors, a node gone: all mean "not readable now"
        return default


def text_of(node) -> str | None:  # type: ignore[no-untyped-def]
    """The node's text through its Text interface, as a reader gets it (None when it has none)."""
    text = safe(lambda: node.queryText())
    if text is None:
        return None
    return safe(lambda: text.getText(0, min(text.characterCount, MAX_TEXT)), "")


def describe(node, path: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """One node as plain data."""
    state = safe(lambda: node.getState())
    states = [name for name, value in STATES.items() if state is not None and state.contains(value)]
    extents = safe(lambda: node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS))
    labelled_by = []
    for relation in safe(lambda: node.getRelationSet(), []) or []:
        if relation.getRelationType() == pyatspi.RELATION_LABELLED_BY:
            targets = [safe(lambda i=i, r=relation: r.getTarget(i)) for i in range(relation.getNTargets())]
            labelled_by += [safe(lambda t=target: t.name, "") or "" for target in targets]
    value = safe(lambda: node.queryValue().currentValue)
    return {
        "path": path,
        "role": safe(lambda: node.getRoleName(), ""),
        "name": safe(lambda: node.name, "") or "",
        "description": safe(lambda: node.description, "") or "",
        "states": states,
        "extents": [extents.x, extents.y, extents.width, extents.height] if extents is not None else None,
        "text": text_of(node),
        "value": value,
        "labelled_by": labelled_by,
        "children": safe(lambda: node.childCount, 0) or 0,
        "attributes": safe(lambda: dict(node.getAttributes() and [a.split(":", 1) for a in node.getAttributes()]), {}),
    }


def kiosk_app():  # type: ignore[no-untyped-def]
    """The kiosk's application node on the desktop (None until it registered)."""
    desktop = pyatspi.Registry.getDesktop(0)
    for index in range(safe(lambda: desktop.childCount, 0)):
        app = safe(lambda index=index: desktop.getChildAtIndex(index))
        if app is not None and safe(lambda app=app: app.name) == APP_NAME:
            return app
    return None


def tree() -> list[dict[str, object]]:
    """Every showing node under the kiosk's frames, depth first (hidden branches are not read)."""
    app = kiosk_app()
    if app is None:
        raise RuntimeError(f"no application {APP_NAME!r} on the accessibility bus")
    nodes: list[dict[str, object]] = []

    def walk(node, path: str) -> None:  # type: ignore[no-untyped-def]
        info = describe(node, path)
        if "showing" not in info["states"] and info["role"] not in ("application",):
            return
        nodes.append(info)
        for index in range(safe(lambda: node.childCount, 0) or 0):
            child = safe(lambda index=index: node.getChildAtIndex(index))
            if child is not None:
                walk(child, f"{path}/{index}")

    walk(app, "")
    return nodes


def on_event(event) -> None:  # type: ignore[no-untyped-def]
    """Remember an event of the kiosk's application (the bus carries everyone's)."""
    source = event.source
    app = safe(lambda: source.getApplication())
    if app is None or safe(lambda: app.name) != APP_NAME:
        return
    data = event.any_data
    heard.append({
        "type": event.type,
        "detail1": event.detail1,
        "data": data if isinstance(data, str) else None,
        "role": safe(lambda: source.getRoleName(), ""),
        "name": safe(lambda: source.name, "") or "",
        "extents": safe(lambda: list(source.queryComponent().getExtents(pyatspi.DESKTOP_COORDS))),
        "time": time.monotonic(),
    })


def press(keys: list[str]) -> None:
    """Press and release each key through the registry (XTest on X11), letting events arrive between."""
    for key in keys:
        code = ord(key) if len(key) == 1 else {"Tab": 0xFF09, "ISO_Left_Tab": 0xFE20, "Return": 0xFF0D}[key]
        pyatspi.Registry.generateKeyboardEvent(code, None, pyatspi.KEY_SYM)
        settle(0.02)


def focus_after(start: int, seconds: float = 2.0) -> dict[str, object] | None:
    """The first control that gained the focus after event number `start` (waits for it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for event in heard[start:]:
            if event["type"] == "object:state-changed:focused" and event["detail1"] == 1:
                return event
        settle(0.01)
    return None


def tab_cycle(limit: int = 40) -> list[dict[str, object]]:
    """Tab through the window until a control takes the focus a second time."""
    stops: list[dict[str, object]] = []
    for _ in range(limit):
        start = len(heard)
        press(["Tab"])
        event = focus_after(start)
        if event is None:
            raise RuntimeError(f"Tab moved the focus nowhere after {[stop['name'] for stop in stops]}")
        stop = {key: event[key] for key in ("role", "name", "extents")}
        if stop in stops:
            return stops[stops.index(stop):]
        stops.append(stop)
    raise RuntimeError(f"the focus never came back after {limit} Tabs")


def settle(seconds: float) -> None:
    """Run the main loop for a while, so events already sent are heard."""
    context = GLib.MainContext.default()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        while context.pending():
            context.iteration(False)
        time.sleep(0.005)


def quiet(at_least: float, quiet_for: float = 0.08, at_most: float = 2.0) -> None:
    """Run the main loop for `at_least` seconds, then until no event came for `quiet_for` seconds."""
    settle(at_least)
    deadline = time.monotonic() + at_most
    count = len(heard)
    while time.monotonic() < deadline:
        settle(quiet_for)
        if len(heard) == count:
            return
        count = len(heard)


def answer(command: dict[str, object]) -> object:
    """Do one command (after the events already sent have been heard)."""
    kind = command["cmd"]
    quiet(float(command.get("settle", 0.0)))  # type: ignore[arg-type]
    if kind == "tree":
        return {"tree": tree()}
    if kind == "events":
        events = list(heard)
        heard.clear()
        return {"events": events}
    if kind == "tab_cycle":
        stops = tab_cycle()
        heard.clear()
        return {"stops": stops}
    if kind == "keys":
        press(list(command["keys"]))  # type: ignore[call-overload]
        return {"pressed": True}
    raise ValueError(f"unknown command {kind!r}")


def main() -> int:
    """Wait for the kiosk on the bus, then answer commands until `quit` or the end of input."""
    listener = pyatspi.Registry
    for event_type in EVENT_TYPES:
        listener.registerEventListener(on_event, event_type)
    deadline = time.monotonic() + 20
    while kiosk_app() is None:
        if time.monotonic() > deadline:
            print(json.dumps({"error": f"no application {APP_NAME!r} on the accessibility bus after 20 s"}), flush=True)
            return 3
        settle(0.1)
    print(json.dumps({"ready": APP_NAME}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "quit":
            break
        try:
            reply = answer(command)
        except Exception:  # noqa: BLE001 - sent back: the test fails with it
            reply = {"error": traceback.format_exc()}
        print(json.dumps(reply), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
