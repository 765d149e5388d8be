"""A real Tryton 8.2 server for tests: the ``tryton_server`` session fixture and its helpers.

The database is built once per session, in subprocesses so that trytond's process-wide
configuration and pool never enter the pytest process:

1. ``trytond-admin`` activates ``sale`` and ``account_invoice`` (with their dependencies)
   in a SQLite file (the file must exist first; ``TRYTONPASSFILE`` sets the admin
   password so nothing prompts);
2. ``python -m tests.support.tryton setup ...`` fills it through proteus: a company in
   USD, a fiscal year with periods and invoice sequences, the minimal chart of accounts,
   the payment term "Net 30" (the default for customers), a cash payment method,
   the United States with a few states, and goods products with codes and list prices.

That file is the template. A server runs on a copy of it, as ``python -m trytond.cli``
on a free loopback port, and is ready once ``common.db.login`` answers over JSON-RPC.

Register the fixture in a test module with
``from tests.support.tryton import tryton_server  # noqa: F401``.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

DATABASE = "o2c"
ADMIN_USER = "admin"
ADMIN_PASSWORD = "o2c-tryton-admin"
MODULES = ("sale", "account_invoice")
COMPANY_NAME = "O2C Demo Supplier Inc"
PAYMENT_TERM = "Net 30"
PAYMENT_METHOD = "Cash"
PRODUCTS: tuple[tuple[str, str, str], ...] = (
    ("SKU-1001", "Widget 1001", "10.00"),
    ("SKU-1002", "Gadget 1002", "24.50"),
    ("SKU-1003", "Sprocket 1003", "3.75"),
    ("MUG-16-SS", "Stainless travel mug 16 oz", "3.90"),
    ("SKILLET-10-CI", "Cast iron skillet 10 in", "10.25"),
    ("SPATULA-SET-3", "Silicone spatula set 3 pc", "5.25"),
    ("O2C-WIDGET-A", "Widget A", "12.00"),
    ("O2C-BOLT-M8", "Bolt M8", "0.15"),
    ("O2C-GEARBOX-20", "Gearbox 20", "480.00"),
)
NOT_SALABLE = ("SKU-9000", "Discontinued part 9000", "1.00")
"""A product Tryton refuses on a sale line (``salable`` is off): Tryton's own validation error."""
SUBDIVISIONS = ("AR", "OH", "TX", "CA", "NY", "IL", "MN")

_ROOT = Path(__file__).resolve().parents[2]
_START_TIMEOUT = 60.0


@dataclass(frozen=True)
class TrytonServer:
    """A running trytond: where it listens and how to log in."""

    url: str
    """Base URL, e.g. ``http://127.0.0.1:8123``; JSON-RPC is at ``{url}/{database}/rpc/``."""
    database: str
    user: str
    password: str
    data_dir: Path
    startup_seconds: float
    """How long the server took from spawn to its first successful login."""
    build_seconds: float = 0.0
    """How long building the template database took (0 when it was reused)."""
    template: Path | None = None
    """The template database this server's database was copied from."""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    def stop(self) -> None:
        """Stop the server now (teardown also stops it; stopping twice is harmless)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    @property
    def rpc_url(self) -> str:
        return f"{self.url}/{self.database}/rpc/"

    def client(self) -> TrytonClient:
        """A small JSON-RPC client for tests (``async with server.client() as rpc:``)."""
        return TrytonClient(self.rpc_url, self.user, self.password)


@dataclass
class TrytonClient:
    """An independent JSON-RPC client, so tests check Tryton without the connector's code."""

    rpc_url: str
    user: str
    password: str
    context: dict[str, Any] = field(default_factory=dict)
    _http: aiohttp.ClientSession | None = None
    _auth: str = ""

    async def __aenter__(self) -> TrytonClient:
        self._http = aiohttp.ClientSession()
        user_id, token, *_ = await self._post(
            "common.db.login", [self.user, {"password": self.password}, "en"]
        )
        raw = f"{self.user}:{user_id}:{token}".encode()
        self._auth = "Session " + base64.b64encode(raw).decode()
        self.context = await self.call("model.res.user.get_preferences", True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()

    async def call(self, method: str, *args: Any) -> Any:
        """Call ``method`` with ``args`` and the user's context appended."""
        return await self._post(method, [*args, self.context])

    async def _post(self, method: str, params: list[Any]) -> Any:
        assert self._http is not None
        headers = {"Authorization": self._auth} if self._auth else {}
        body = json.dumps({"id": 1, "method": method, "params": params}, default=_encode)
        async with self._http.post(
            self.rpc_url,
            data=body,
            headers={**headers, "Content-Type": "application/json"},
        ) as response:
            response.raise_for_status()
            payload = json.loads(await response.text(), object_hook=_decode)
        if "error" in payload:
            raise TrytonRpcError(payload["error"])
        return payload["result"]

    async def search_read(
        self, model: str, domain: list[Any], fields: list[str], order: list[Any] | None = None
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.call(
            f"model.{model}.search_read", domain, 0, None, order, fields
        )
        return result


class TrytonRpcError(Exception):
    """Tryton answered a call with an error (``args[0]`` is its error payload)."""


def _encode(value: object) -> object:
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    raise TypeError(f"cannot encode {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> object:
    if obj.get("__class__") == "Decimal":
        return Decimal(obj["decimal"])
    return obj


# -- building the template database -------------------------------------------------


def write_config(directory: Path, *, port: int | None = None) -> Path:
    """Write a trytond config for a SQLite database in ``directory``."""
    lines = [
        "[database]",
        "uri = sqlite://",
        f"path = {directory}",
        "list = False",
        "[session]",
        # Login attempts are rate limited per IP; tests log in often from one address.
        "max_attempt = 1000",
        "[password]",
        "length = 8",
    ]
    if port is not None:
        lines += ["[web]", f"listen = 127.0.0.1:{port}"]
    path = directory / "trytond.conf"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _env(config: Path, passfile: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYTOND_")}
    env["TRYTOND_CONFIG"] = str(config)
    env["PYTHONPATH"] = str(_ROOT)
    if passfile is not None:
        env["TRYTONPASSFILE"] = str(passfile)
    return env


def build_template(directory: Path) -> Path:
    """Build the template database in ``directory``; returns the SQLite file."""
    directory.mkdir(parents=True, exist_ok=True)
    config = write_config(directory)
    passfile = directory / "admin.pass"
    passfile.write_text(ADMIN_PASSWORD + "\n", encoding="utf-8")
    db_file = directory / f"{DATABASE}.sqlite"
    db_file.touch()
    env = _env(config, passfile)
    _run(
        [
            *(sys.executable, "-m", "trytond.cli.admin", "-c", str(config), "-d", DATABASE),
            *("-u", *MODULES, "--activate-dependencies", "--email", "admin@o2c.example"),
        ],
        env=env,
    )
    _run(
        [sys.executable, "-m", "tests.support.tryton", "setup", str(config), DATABASE],
        env=env,
    )
    passfile.unlink()
    return db_file


def _run(command: list[str], *, env: dict[str, str]) -> None:
    result = subprocess.run(
        command,
        cwd=_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[:4])} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )


def _setup_database(config_file: str, database: str) -> None:  # pragma: no cover - subprocess
    """Fill a freshly activated database through proteus (runs in its own process)."""
    # Neither proteus nor trytond ships type hints. The helpers under trytond's tests/ are
    # the ones Tryton's own scenarios use; they ship in the PyPI wheels.
    from proteus import Model, config  # type: ignore[import-untyped]
    from trytond.modules.account.tests import tools as account  # type: ignore[import-untyped]
    from trytond.modules.account_invoice.tests import (  # type: ignore[import-untyped]
        tools as invoice,
    )
    from trytond.modules.company.tests import tools as company  # type: ignore[import-untyped]

    config.set_trytond(database=database, user=ADMIN_USER, config_file=config_file)
    party_model = Model.get("party.party")
    company_party = party_model(name=COMPANY_NAME)
    company_party.save()
    company.create_company(party=company_party, currency="USD")
    fiscalyear = invoice.set_fiscalyear_invoice_sequences(account.create_fiscalyear())
    fiscalyear.click("create_period")
    account.create_chart()
    accounts = account.get_accounts()

    term = Model.get("account.invoice.payment_term")(name=PAYMENT_TERM)
    term_line = term.lines.new(type="remainder")
    term_line.relativedeltas.new(days=30)
    term.save()
    account_config = Model.get("account.configuration")(1)
    account_config.default_customer_payment_term = term
    account_config.save()

    journal, *_ = Model.get("account.journal").find([("type", "=", "cash")])
    method = Model.get("account.invoice.payment.method")(name=PAYMENT_METHOD)
    method.journal = journal
    method.credit_account = accounts["cash"]
    method.debit_account = accounts["cash"]
    method.save()

    country = Model.get("country.country")(name="United States", code="US", code3="USA")
    for code in SUBDIVISIONS:
        country.subdivisions.new(name=code, code=f"US-{code}", type="state")
    country.save()

    category = Model.get("product.category")(name="Goods", accounting=True)
    category.account_revenue = accounts["revenue"]
    category.account_expense = accounts["expense"]
    category.save()
    (unit,) = Model.get("product.uom").find([("name", "=", "Unit")])
    template_model = Model.get("product.template")
    for code, name, price in (*PRODUCTS, NOT_SALABLE):
        template = template_model(name=name, code=code, type="goods", default_uom=unit)
        template.salable = (code, name, price) != NOT_SALABLE
        template.list_price = Decimal(price)
        template.account_category = category
        template.save()


# -- running a server ------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nothing listens on right now (loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def run_server(
    template: Path, directory: Path, *, build_seconds: float = 0.0
) -> Iterator[TrytonServer]:
    """Run trytond on a copy of ``template`` in ``directory``; stop it on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, directory / f"{DATABASE}.sqlite")
    port = free_port()
    config = write_config(directory, port=port)
    log = (directory / "trytond.log").open("wb")
    started = time.monotonic()
    server: TrytonServer | None = None
    process = subprocess.Popen(
        [sys.executable, "-m", "trytond.cli", "-c", str(config), "-d", DATABASE],
        cwd=directory,
        env=_env(config),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(process, f"{url}/{DATABASE}/rpc/", directory / "trytond.log")
        server = TrytonServer(
            url=url,
            database=DATABASE,
            user=ADMIN_USER,
            password=ADMIN_PASSWORD,
            data_dir=directory,
            startup_seconds=time.monotonic() - started,
            build_seconds=build_seconds,
            template=template,
            process=process,
        )
        yield server
    finally:
        if server is not None:
            server.stop()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _wait_ready(process: subprocess.Popen[bytes], rpc_url: str, log: Path) -> None:
    body = json.dumps(
        {"id": 0, "method": "common.db.login", "params": [ADMIN_USER, {"password": ADMIN_PASSWORD}]}
    ).encode()
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"trytond exited ({process.returncode}):\n{log.read_text()[-4000:]}")
        request = urllib.request.Request(
            rpc_url, data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                if "result" in json.loads(response.read()):
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"trytond did not answer in {_START_TIMEOUT}s:\n{log.read_text()[-4000:]}")


def template_cache_key() -> str:
    """Changes with this file, the installed Tryton packages and the month (fiscal year)."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for dist in sorted(metadata.distributions(), key=lambda d: str(d.metadata["Name"])):
        name = str(dist.metadata["Name"]).lower()
        if name.startswith(("trytond", "proteus")):
            digest.update(f"{name}=={dist.version}\n".encode())
    digest.update(time.strftime("%Y-%m").encode())
    return digest.hexdigest()[:16]


def template_database(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """The template database file and how many seconds building it took (0: reused).

    Built once per session. Unless ``O2C_TRYTON_CACHE=off``, the file is also kept in
    ``$O2C_TRYTON_CACHE`` (default ``<tmp>/o2c-tryton-cache``) under a key of this
    file's text, the Tryton package versions and the month, and reused by later
    sessions: activation is the slow part (about 45 s on two cores).
    """
    setting = os.environ.get("O2C_TRYTON_CACHE", "")
    cache_dir = (
        None if setting == "off" else Path(setting or tempfile.gettempdir()) / "o2c-tryton-cache"
    )
    cached = cache_dir / f"template-{template_cache_key()}.sqlite" if cache_dir else None
    if cached is not None and cached.is_file():
        return cached, 0.0
    started = time.monotonic()
    db_file = build_template(tmp_path_factory.mktemp("tryton-template"))
    seconds = time.monotonic() - started
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(db_file, partial)
        partial.replace(cached)  # atomic: a concurrent session sees all of it or nothing
    return db_file, seconds


@pytest.fixture(scope="session")
def tryton_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrytonServer]:
    """A trytond serving a copy of the session's template database, stopped at the end."""
    template, build_seconds = template_database(tmp_path_factory)
    with run_server(
        template, tmp_path_factory.mktemp("tryton-server"), build_seconds=build_seconds
    ) as server:
        yield server


if __name__ == "__main__":  # pragma: no cover - the template builder's second step
    if len(sys.argv) == 4 and sys.argv[1] == "setup":
        _setup_database(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: python -m tests.support.tryton setup CONFIG DATABASE")
