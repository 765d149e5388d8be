"""Tryton's JSON-RPC over HTTP, as a remote client speaks it, with its errors mapped.

Tryton 8 answers ``POST /<database>/rpc/`` with ``{"method", "params", "id"}``: log in
with ``common.db.login`` (user, ``{"password": ...}``) for a user id and a session key,
then send ``Authorization: Session base64(login:user_id:key)`` on every call. Model
calls take the user's context as their last parameter. Decimals and dates travel as
``{"__class__": "Decimal", "decimal": "9.50"}`` and ``{"__class__": "date", ...}``.

Errors come back in the body (HTTP 200): ``["UserError", [message, description,
domain]]`` for a validation the ERP refuses (permanent), ``["ConcurrencyException",
...]`` for a write race (transient), ``[text, traceback]`` for a server fault
(transient, like a 5xx). HTTP 401 means the session expired (the default timeout is
five minutes): the client logs in again once. Imports only aiohttp, pydantic and
``gateway.errors``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import itertools
import json
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import aiohttp

from gateway.errors import PermanentDeliveryError, TransientDeliveryError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pydantic import SecretStr

log = logging.getLogger(__name__)

Record = dict[str, Any]
"""One record as Tryton's ``read`` returns it (``"party."`` holds a dotted read)."""

_PERMANENT_ERRORS: Final = frozenset({"UserError", "UserWarning", "LoginException"})
_TRANSIENT_STATUS: Final = frozenset({408, 425, 429, 500, 502, 503, 504})


class TrytonRpc:
    """A logged-in JSON-RPC session with one Tryton database.

    Args:
        url: the server's base URL, e.g. ``https://erp.example.com``.
        database: the database name (the first part of the RPC path).
        user: the login.
        password: the user's password.
        timeout: seconds for one call, connecting included.
        max_connections: concurrent HTTP connections to the server.
    """

    def __init__(
        self,
        url: str,
        database: str,
        user: str,
        password: SecretStr,
        *,
        timeout: float = 30.0,
        max_connections: int = 8,
    ) -> None:
        self.endpoint = f"{url.rstrip('/')}/{database}/rpc/"
        self._user = user
        self._password = password
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_connections = max_connections
        self._http: aiohttp.ClientSession | None = None
        self._auth: str | None = None
        self._context: Record = {}
        self._login_lock = asyncio.Lock()
        self._ids = itertools.count(1)

    @property
    def context(self) -> Record:
        """The user's preferences (company, language...) sent with every model call."""
        return self._context

    async def call(self, method: str, *args: object, context: Record | None = None) -> Any:
        """Call ``model.<name>.<method>`` (or a wizard) with the user's context appended.

        ``context`` adds keys to the user's context (``active_id`` for a wizard...).

        Raises:
            TransientDeliveryError: unreachable, timed out, 5xx/429, a server fault or a
                concurrent write.
            PermanentDeliveryError: the ERP refused the call (``UserError``), or login failed.
        """
        auth = self._auth or await self._login(None)
        try:
            return await self._post(method, [*args, {**self._context, **(context or {})}], auth)
        except _SessionExpiredError:
            auth = await self._login(auth)
            try:
                return await self._post(method, [*args, {**self._context, **(context or {})}], auth)
            except _SessionExpiredError as exc:
                raise PermanentDeliveryError(
                    f"Tryton refused {method} for user {self._user!r} right after login"
                ) from exc

    async def search_one(self, model: str, domain: list[Any]) -> int | None:
        """The id of the first ``model`` record matching ``domain``, or None."""
        found = await self.call(f"model.{model}.search", domain, 0, 1, None)
        return int(found[0]) if found else None

    async def create_one(self, model: str, values: Record) -> int:
        """Create one ``model`` record; returns its id."""
        (new_id,) = await self.call(f"model.{model}.create", [values])
        return int(new_id)

    async def close(self) -> None:
        """End the session on the server (best effort) and close the connections."""
        if self._http is None:
            return
        if self._auth is not None:
            with contextlib.suppress(TransientDeliveryError, PermanentDeliveryError):
                await self._post("common.db.logout", [], self._auth)
            self._auth = None
        await self._http.close()
        self._http = None

    async def _login(self, stale: str | None) -> str:
        async with self._login_lock:
            if self._auth is not None and self._auth != stale:
                return self._auth  # another task logged in meanwhile
            params = [self._user, {"password": self._password.get_secret_value()}, "en"]
            try:
                result = await self._post("common.db.login", params, None)
            except _SessionExpiredError as exc:
                raise PermanentDeliveryError(
                    f"Tryton login refused for user {self._user!r} at {self.endpoint}"
                ) from exc
            user_id, key = result[0], result[1]
            raw = f"{self._user}:{user_id}:{key}".encode()
            auth = "Session " + base64.b64encode(raw).decode("ascii")
            self._context = {}
            self._context = await self._post("model.res.user.get_preferences", [True, {}], auth)
            self._auth = auth
            log.info("logged in to Tryton", extra={"erp_url": self.endpoint, "user": self._user})
            return auth

    async def _post(self, method: str, params: list[Any], auth: str | None) -> Any:
        if self._http is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections)
            self._http = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        body = json.dumps(
            {"id": next(self._ids), "method": method, "params": params}, default=encode
        )
        headers = {"Content-Type": "application/json"}
        if auth is not None:
            headers["Authorization"] = auth
        with map_errors(method):
            async with self._http.post(self.endpoint, data=body, headers=headers) as response:
                if response.status == 401:
                    raise _SessionExpiredError(method)
                _check_status(method, response.status)
                text = await response.text()
        try:
            payload = json.loads(text, object_hook=decode)
        except ValueError as exc:
            raise TransientDeliveryError(f"Tryton {method}: the answer is not JSON") from exc
        if "error" in payload:
            raise rpc_error(method, payload["error"])
        return payload.get("result")


class _SessionExpiredError(Exception):
    """HTTP 401: the session key is unknown or expired."""


@contextlib.contextmanager
def map_errors(method: str) -> Iterator[None]:
    """Turn aiohttp's connection errors and timeouts into ``TransientDeliveryError``."""
    try:
        yield
    except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
        raise TransientDeliveryError(f"Tryton {method}: cannot reach the server: {exc}") from exc
    except TimeoutError as exc:
        raise TransientDeliveryError(f"Tryton {method}: no answer in time") from exc
    except aiohttp.ClientError as exc:
        raise TransientDeliveryError(f"Tryton {method}: HTTP client error: {exc}") from exc


def _check_status(method: str, status: int) -> None:
    if status < 400:
        return
    if status in _TRANSIENT_STATUS or status >= 500:
        raise TransientDeliveryError(f"Tryton {method}: HTTP {status}")
    if status == 404:
        raise PermanentDeliveryError(f"Tryton {method}: HTTP 404 (is the database name right?)")
    raise PermanentDeliveryError(f"Tryton {method}: HTTP {status}")


def rpc_error(method: str, error: object) -> TransientDeliveryError | PermanentDeliveryError:
    """The gateway error for the ``error`` member of a JSON-RPC answer."""
    if isinstance(error, list) and error and isinstance(error[0], str):
        kind = error[0]
        args = error[1] if len(error) > 1 else None
        if kind in _PERMANENT_ERRORS:
            return PermanentDeliveryError(f"Tryton {kind}: {_user_message(kind, args)}")
        if kind == "ConcurrencyException":
            return TransientDeliveryError(f"Tryton {method}: concurrent change: {args}")
        return TransientDeliveryError(f"Tryton {method}: server error: {kind}")
    return TransientDeliveryError(f"Tryton {method}: unexpected error payload")


def _user_message(kind: str, args: object) -> str:
    if not isinstance(args, list):
        return str(args)
    # UserError: (message, description, domain); UserWarning: (name, message, description)
    parts = args[1:3] if kind == "UserWarning" else args[:2]
    return " - ".join(str(part) for part in parts if isinstance(part, str) and part)


def encode(value: object) -> object:
    """JSON form of the values Tryton's decoder knows (``Decimal``, ``date``)."""
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    raise TypeError(f"cannot send a {type(value).__name__} to Tryton")


def decode(obj: dict[str, Any]) -> object:
    """Inverse of Tryton's encoder for ``Decimal`` and ``date`` (others stay dicts)."""
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "date":
        return dt.date(obj["year"], obj["month"], obj["day"])
    return obj
