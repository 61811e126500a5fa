"""Paint first: the services' imports run on a worker thread, so the painted start page keeps answering."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from kiosk.cli import main as cli
from kiosk.flows.steps import BeginAnswer, StepKind
from kiosk.policy.loader import load_policy

REPO = Path(__file__).resolve().parents[2]


async def test_connect_imports_the_services_on_a_worker_thread_then_opens_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[tuple[threading.Thread, bool]] = []
    real_import = cli.import_services

    def recording_import(embedded: bool) -> None:
        threads.append((threading.current_thread(), embedded))
        real_import(embedded)

    monkeypatch.setattr(cli, "import_services", recording_import)
    answered_on: list[str] = []
    real_handle = httpx.ASGITransport.handle_async_request

    async def recording_handle(transport: httpx.ASGITransport, request: httpx.Request) -> httpx.Response:
        answered_on.append(threading.current_thread().name)
        return await real_handle(transport, request)

    monkeypatch.setattr(httpx.ASGITransport, "handle_async_request", recording_handle)
    services = await cli.connect_services(load_policy(cli.DEMO_POLICY))
    try:
        assert (await services.flow.submit(BeginAnswer())).kind is StepKind.IDENTIFY
        backend_threads = [thread for thread in threading.enumerate() if thread.name == "kiosk-backend"]
        assert len(backend_threads) == 1
    finally:
        await services.close()
    assert len(threads) == 1
    thread, embedded = threads[0]
    assert thread is not threading.main_thread() and embedded
    # Every request of the embedded backend is answered on its own thread, never on the window's.
    assert answered_on and set(answered_on) == {"kiosk-backend"}
    assert not backend_threads[0].is_alive()  # closing the services ends the thread


@pytest.mark.parametrize(("embedded", "backend_imported"), [(False, False), (True, True)])
def test_import_services_imports_the_embedded_backend_only_when_asked(embedded: bool, backend_imported: bool) -> None:
    """A fresh interpreter: a shared-backend kiosk never loads the embedded backend's modules."""
    script = (
        "import sys; from kiosk.cli.main import import_services; "
        f"import_services({embedded}); "
        "print('kiosk.flows.engine' in sys.modules, 'kiosk.services.client' in sys.modules, "
        "'kiosk.services.backend' in sys.modules)"
    )
    result = subprocess.run(  # noqa: S603 - this interpreter with a fixed script
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", str(backend_imported)]
