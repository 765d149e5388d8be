"""``o2c serve``: one asyncio process running the roles it is given.

Role ``all`` (the default) runs everything in one process: the HTTP app, the
hosted SFTP server and pollers, the folder watchers and the workers. Production
splits them: ``api`` processes behind a load balancer, ``sftp`` on the host
partners connect to, and any number of ``worker`` processes on any machines
sharing one PostgreSQL database (they claim work with ``FOR UPDATE SKIP LOCKED``).

Shutdown on SIGTERM or SIGINT, in this order: stop taking work (close the HTTP
listener and the SFTP server, stop pollers), let workers finish their current
batch and release their claims, close the ERP connector, close the database.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from aiohttp import web

from gateway.dso.service import DsoSnapshotter
from gateway.errors import ConfigError
from gateway.partners import PartnerRegistry
from gateway.pipeline.alerts import WebhookAlerts
from gateway.pipeline.erp_flow import erp_services
from gateway.pipeline.receiver import PipelineReceiver
from gateway.pipeline.worker import Worker
from gateway.ports import GatewayContext, Service, load_adapters
from gateway.storage import Store
from gateway.web.app import create_app, create_metrics_app

if TYPE_CHECKING:
    from collections.abc import Callable

    from gateway.ports import AdapterRegistry, ErpConnector
    from gateway.settings import Settings

log = logging.getLogger(__name__)

Role = Literal["all", "api", "worker", "sftp"]
ROLES: tuple[Role, ...] = ("all", "api", "worker", "sftp")


@dataclass
class Running:
    """What a started gateway process runs; handed to ``on_ready`` once all is listening."""

    role: Role
    context: GatewayContext
    http_url: str | None = None
    sftp_port: int | None = None
    workers: list[Worker] = field(default_factory=list)
    services: dict[str, Service] = field(default_factory=dict)


async def serve(
    settings: Settings,
    role: Role = "all",
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[Running], None] | None = None,
    install_signal_handlers: bool = True,
) -> None:
    """Run the gateway until ``stop`` is set (or SIGTERM/SIGINT arrives).

    Raises:
        SchemaOutOfDateError: the database is behind the code (run ``o2c db upgrade``).
        ConfigError: the partner profiles or the settings are wrong.
    """
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    stop = stop or asyncio.Event()
    if install_signal_handlers:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    partners = PartnerRegistry.load(settings.partners_dir)
    adapters = load_adapters()
    store = await Store.from_settings(settings)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(store.close)
        alerts = await stack.enter_async_context(WebhookAlerts.from_settings(settings))
        receiver = PipelineReceiver(store, settings, partners)
        ctx = GatewayContext(
            settings=settings, store=store, partners=partners, receive=receiver, alerts=alerts
        )
        running = Running(role=role, context=ctx)
        if role in ("all", "worker"):
            await _start_workers(ctx, adapters, running, stack, stop)
        for name, (service_role, factory) in sorted(adapters.services.items()):
            if role in ("all", service_role):
                service = factory(ctx)
                if service is not None:
                    await service.start()
                    stack.push_async_callback(service.stop)
                    running.services[name] = service
        if role in ("all", "api"):
            running.http_url = await _start_http(ctx, adapters, stack)
        elif settings.metrics_port is not None:
            running.http_url = await _start_http(ctx, adapters, stack, metrics_only=True)
        running.sftp_port = _sftp_port(running)
        if on_ready is not None:
            on_ready(running)
        log.info("gateway running", extra={"role": role, "pid": os.getpid()})
        await stop.wait()
        log.info("gateway stopping", extra={"role": role})
    if install_signal_handlers:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def _start_workers(
    ctx: GatewayContext,
    adapters: AdapterRegistry,
    running: Running,
    stack: AsyncExitStack,
    stop: asyncio.Event,
) -> None:
    settings = ctx.settings
    erp_settings = dict(settings.erp)
    name = str(erp_settings.pop("connector", "folder"))
    factory = adapters.erps.get(name)
    if factory is None:
        known = ", ".join(sorted(adapters.erps)) or "none installed"
        raise ConfigError(f"erp.connector: unknown ERP connector {name!r} (known: {known})")
    erp: ErpConnector = await factory(ctx, erp_settings)
    stack.push_async_callback(erp.close)
    alerts = ctx.alerts if isinstance(ctx.alerts, WebhookAlerts) else None
    services: dict[str, Service] = dict(erp_services(ctx, erp, alerts))
    services["dso_snapshots"] = DsoSnapshotter(
        ctx.store, ctx.partners, alerts=alerts, period_days=ctx.settings.dso_period_days
    )
    for service_name, service in services.items():
        await service.start()  # invoice poller, overdue acks, DSO: stopped before the ERP closes
        stack.push_async_callback(service.stop)
        running.services[service_name] = service
    transports = {kind: make(ctx) for kind, make in adapters.transports.items()}
    host = socket.gethostname()
    tasks: list[asyncio.Task[None]] = []
    for n in range(settings.workers):
        worker = Worker(
            ctx,
            erp=erp,
            transports=transports,
            name=f"{host}:{os.getpid()}:{n}",
            batch=settings.worker_batch,
            lease_seconds=settings.lease_seconds,
            max_attempts=settings.max_attempts,
            alerts=alerts,
        )
        running.workers.append(worker)
        tasks.append(asyncio.create_task(worker.run(stop), name=f"worker-{n}"))

    async def _join() -> None:
        stop.set()
        for task in tasks:
            try:
                await task
            except Exception:
                log.exception("worker ended with an error")

    stack.push_async_callback(_join)


async def _start_http(
    ctx: GatewayContext,
    adapters: AdapterRegistry,
    stack: AsyncExitStack,
    *,
    metrics_only: bool = False,
) -> str:
    """The HTTP listener: the whole app, or (``metrics_only``) ``/metrics`` and ``/healthz``."""
    settings = ctx.settings
    if metrics_only:
        app = create_metrics_app(ctx, certificates=adapters.certificates)
        port = settings.metrics_port or 0
    else:
        app = create_app(ctx, routes=adapters.routes, certificates=adapters.certificates)
        port = settings.http_port
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=10)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, settings.http_host, port)
    await site.start()
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or []
    if sockets:
        port = sockets[0].getsockname()[1]
    return f"http://{settings.http_host}:{port}"


def _sftp_port(running: Running) -> int | None:
    for service in running.services.values():
        port = getattr(service, "port", None)
        if isinstance(port, int):
            return port
    return None
