"""Prometheus metrics of a served backend (`GET /metrics`, text exposition format).

Only a backend served by `kiosk serve` has them: this module (and `prometheus_client`) is imported
when `Backend.open(metrics=True)` asks for it, so the kiosk's embedded backend never pays for it.
Each backend has its own `CollectorRegistry`, never the process-wide default, so several backends in
one process (tests) count apart.

Labels carry no personal data, ever: a route's template (`/v1/session/code`, never a raw path), the
HTTP method and status, and codes from the audit (an event's outcome up to its first ':', kept only if
it looks like a code). The business counters are derived from the audit rows in one place
(`Metrics.audited`, called by `AuditLog.record` for every row written), so they cannot drift from it.

`kiosk serve --workers N` runs N processes behind one port, and a scrape reaches any one of them. So
that every scrape sees the whole server, `serve` then points PROMETHEUS_MULTIPROC_DIR at a private
folder before the workers start: prometheus_client keeps each process's values in files there, and
`exposition` adds them up (counters and histograms summed; the gauges as declared: the delivery
queue, one table for all, by its latest value; the hashing load, per process, summed over the live
ones and refreshed after every request, not only when scraped).
"""

from __future__ import annotations

import os
import re

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.hashing import HashingLoad

CONTENT_TYPE = CONTENT_TYPE_LATEST
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
"""What an outcome code looks like; anything else is counted as `other` (never echoed as a label)."""


def outcome_code(outcome: str) -> str:
    """The code part of an audit outcome (before the first ':'), or `other` if it is not a plain code."""
    code = outcome.split(":", 1)[0]
    return code if _CODE.fullmatch(code) else "other"


MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus_client's switch to multi-process mode (read when the library is first imported)."""


class Metrics:
    """The metrics of one backend, in their own registry."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROCESS_VARIABLE))
        """Values live in files shared by the server's worker processes (see the module's docstring)."""
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            "kiosk_http_requests", "HTTP requests answered, by route template, method and status.",
            ("route", "method", "status"), registry=registry,
        )  # fmt: skip
        self.latency = Histogram(
            "kiosk_http_request_duration_seconds", "Time to answer a request, by route template and method.",
            ("route", "method"), registry=registry,
        )  # fmt: skip
        self.resets = Counter("kiosk_resets", "Passwords reset (audit event `reset`).", registry=registry)
        self.unlocks = Counter("kiosk_unlocks", "Accounts unlocked (audit event `unlocked`).", registry=registry)
        self.refusals = Counter(
            "kiosk_refusals", "Sessions refused (audit event `refused`), by refusal code.", ("code",), registry=registry
        )
        self.blocks = Counter(
            "kiosk_blocks", "Steps refused by a throttle (audit event `blocked`), by what tripped.", ("reason",),
            registry=registry,
        )  # fmt: skip
        self.delivery_failures = Counter(
            "kiosk_delivery_failures", "Messages given up (codes and notices), by kind and the sender's reason.",
            ("kind", "reason"), registry=registry,
        )  # fmt: skip
        self.queue_depth = Gauge(
            "kiosk_delivery_queue_depth", "Messages waiting in the delivery queue (read when scraped).",
            registry=registry, multiprocess_mode="mostrecent",
        )  # fmt: skip
        self.hashing_admitted = Gauge(
            "kiosk_hashing_queue_depth", "Requests admitted to the hashing queue, hashing or waiting (when scraped).",
            registry=registry, multiprocess_mode="livesum",
        )  # fmt: skip
        self.hashing_capacity = Gauge(
            "kiosk_hashing_queue_capacity", "Requests the hashing queue admits at once (workers plus queue).",
            registry=registry, multiprocess_mode="livesum",
        )  # fmt: skip
        self.hashing_running = Gauge(
            "kiosk_hashing_in_flight", "Hashing jobs running on a worker thread (when scraped).", registry=registry,
            multiprocess_mode="livesum",
        )  # fmt: skip
        self.hashing_waiting = Gauge(
            "kiosk_hashing_waiting", "Hashing jobs waiting for a worker thread (when scraped).", registry=registry,
            multiprocess_mode="livesum",
        )  # fmt: skip
        self.busy_answers = Counter(
            "kiosk_busy", "Requests answered 503 busy (hashing queue full) before any work.", registry=registry
        )

    def busy(self) -> None:
        """Count one request refused as busy."""
        self.busy_answers.inc()

    def audited(self, event: AuditEvent, outcome: str) -> None:
        """Count one audit row (the only source of the business counters)."""
        if event is AuditEvent.RESET and outcome == "ok":
            self.resets.inc()
        elif event is AuditEvent.UNLOCKED and outcome == "ok":
            self.unlocks.inc()
        elif event is AuditEvent.REFUSED:
            self.refusals.labels(outcome_code(outcome)).inc()
        elif event is AuditEvent.BLOCKED:
            self.blocks.labels(outcome_code(outcome)).inc()
        elif event is AuditEvent.CODE_SENT and outcome.startswith("delivery_failed:"):
            self.delivery_failures.labels("code", outcome_code(outcome.removeprefix("delivery_failed:"))).inc()
        elif event is AuditEvent.NOTICE_FAILED:
            self.delivery_failures.labels("notice", outcome_code(outcome)).inc()

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request of a route of the table (`route` is its template)."""
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def hashing_load(self, hashing: HashingLoad) -> None:
        """Record this process's hashing load as just read."""
        self.hashing_admitted.set(hashing.admitted)
        self.hashing_capacity.set(hashing.capacity)
        self.hashing_running.set(hashing.running)
        self.hashing_waiting.set(hashing.waiting)

    def exposition(self, queue_depth: int, hashing: HashingLoad) -> bytes:
        """The text exposition of every metric, with the delivery queue's depth and the hashing load as just read
        (with worker processes: of all of them)."""
        self.queue_depth.set(queue_depth)
        self.hashing_load(hashing)
        if not self.multiprocess:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return generate_latest(merged)
