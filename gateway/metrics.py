"""Prometheus metrics of a gateway process, each set in its own ``CollectorRegistry``.

:class:`GatewayMetrics` holds one registry (never prometheus-client's global one, so
several apps in one test process do not collide) with:

- ``o2c_documents{partner,direction,state}``: documents per state, refreshed from
  ``Store.count_by_state`` at every scrape (:meth:`GatewayMetrics.refresh`);
- ``o2c_queue_depth``: documents in a work state and due now (``Store.queue_depth``);
- ``o2c_processing_seconds{stage}``: latency histogram; ``delivered`` is received →
  delivered at the ERP, other stages are named by the pipeline;
- ``o2c_delivery_failures_total{kind,permanent}``: failed sends and ERP pushes;
- ``o2c_http_requests_total{method,route,status}`` and ``o2c_http_request_seconds``.

The pipeline reports through the module functions :func:`observe_latency` and
:func:`count_delivery_failure`, which feed every attached :class:`GatewayMetrics`
(the running app attaches its own while it runs) and do nothing when none is.
With ``--role worker`` in its own process those figures stay in that process.

Imports only the standard library, prometheus-client and (for types) storage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

if TYPE_CHECKING:
    from collections.abc import Iterable

    from gateway.storage import Store


class Certificate(Protocol):
    """What the metrics read of a certificate (``gateway.ports.CertificateExpiry``)."""

    partner_id: str
    direction: str
    owner: str
    days_left: int


CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The ``Content-Type`` of :meth:`GatewayMetrics.render`'s output."""

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_attached: list[GatewayMetrics] = []


class GatewayMetrics:
    """The gateway's metrics in a registry of their own; see the module docstring."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.documents = Gauge(
            "o2c_documents",
            "Documents by partner, direction and state",
            ["partner", "direction", "state"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "o2c_queue_depth", "Documents in a work state and due now", registry=self.registry
        )
        self.certificate_days = Gauge(
            "o2c_certificate_days_left",
            "Days until a certificate of a partner agreement expires (negative: expired)",
            ["partner", "direction", "owner"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "o2c_processing_seconds",
            "Seconds from receipt to the end of a pipeline stage",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.delivery_failures = Counter(
            "o2c_delivery_failures",
            "Failed deliveries (outbound sends and ERP pushes)",
            ["kind", "permanent"],
            registry=self.registry,
        )
        self.http_requests = Counter(
            "o2c_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "o2c_http_request_seconds",
            "Seconds to answer an HTTP request",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )

    def attach(self) -> None:
        """Receive what the pipeline reports through the module functions."""
        if self not in _attached:
            _attached.append(self)

    def detach(self) -> None:
        """Stop receiving the pipeline's reports."""
        if self in _attached:
            _attached.remove(self)

    async def refresh(self, store: Store) -> None:
        """Read the document counts and the queue depth from the database."""
        counts = await store.count_by_state()
        depth = await store.queue_depth()
        self.documents.clear()
        for (partner, direction, state), count in sorted(
            counts.items(), key=lambda item: tuple(str(x) for x in item[0])
        ):
            self.documents.labels(partner or "", direction, str(state)).set(count)
        self.queue_depth.set(depth)

    def set_certificates(self, certificates: Iterable[Certificate]) -> None:
        """Show each agreement certificate's days left (alert on it below 30)."""
        self.certificate_days.clear()
        for cert in certificates:
            self.certificate_days.labels(cert.partner_id, cert.direction, cert.owner).set(
                cert.days_left
            )

    def observe_http(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request; ``route`` is the route's pattern, not the raw path."""
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)


def observe_latency(stage: str, seconds: float) -> None:
    """Record how long a document took from receipt to the end of ``stage``."""
    for metrics in _attached:
        metrics.latency.labels(stage).observe(max(seconds, 0.0))


def count_delivery_failure(kind: str, *, permanent: bool) -> None:
    """Count a failed delivery over a channel ``kind`` (``sftp_hosted``, ``http``, ``erp``)."""
    for metrics in _attached:
        metrics.delivery_failures.labels(kind, "true" if permanent else "false").inc()
