"""Process settings: ``O2C_*`` environment variables, an optional ``o2c.yaml``, and secrets.

``Settings`` holds what one gateway process needs to start: where its database and
data live, where it listens, where partner profiles and mappings are, and our own
identity on outbound envelopes. Values come from, strongest first: constructor
arguments, ``O2C_<FIELD>`` environment variables, then the YAML settings file
given to :meth:`Settings.load`. Secrets that partner profiles name are resolved by
:meth:`Settings.secret` from ``O2C_SECRET_<NAME>`` or ``<secrets_dir>/<name>``.

It also holds the value types both settings and partner profiles use (ISA ids,
secret names). This is the only module that reads ``os.environ`` (STYLE.md
section 5). Imports only the standard library, pydantic, pydantic-settings,
``gateway.errors`` and :mod:`gateway.yamlconfig` (for line numbers).
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from gateway.errors import ConfigError
from gateway.yamlconfig import YamlDocument, explain, matches, read_yaml

ENV_PREFIX = "O2C_"
SECRET_ENV_PREFIX = "O2C_SECRET_"  # noqa: S105 (a variable-name prefix, not a value)
CONFIG_FILE_ENV = "O2C_CONFIG_FILE"
DEFAULT_CONFIG_FILE = Path("o2c.yaml")

_SECRET_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
SecretName = Annotated[
    str,
    matches(
        _SECRET_NAME.pattern,
        "a secret name: a letter, then up to 63 letters, digits, '_', '.' or '-'",
    ),
]
"""The name of a secret (``ACME_SFTP_KEY``); the value lives outside YAML."""

IsaQualifier = Annotated[
    str, matches(r"[0-9A-Z]{2}", "a 2-character ISA id qualifier such as '01', '12' or 'ZZ'")
]
IsaId = Annotated[
    str,
    matches(
        r"[A-Za-z0-9._/&-](?:[A-Za-z0-9 ._/&-]{0,13}[A-Za-z0-9._/&-])?",
        "an ISA id: 1 to 15 letters, digits or . _ / & -, without padding spaces",
    ),
]
GsId = Annotated[
    str,
    matches(
        r"[A-Za-z0-9._/&-](?:[A-Za-z0-9 ._/&-]{0,13}[A-Za-z0-9._/&-])",
        "a GS application code: 2 to 15 letters, digits or . _ / & -",
    ),
]

# Values of the YAML settings file for the Settings() call that Settings.load makes.
_FILE_VALUES: ContextVar[dict[str, Any] | None] = ContextVar("_FILE_VALUES", default=None)


class _FileSource(PydanticBaseSettingsSource):
    """The YAML settings file, weaker than the environment."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        values = _FILE_VALUES.get() or {}
        return values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_FILE_VALUES.get() or {})


class Settings(BaseSettings):
    """What one gateway process needs to start; see the module docstring for the sources."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    data_dir: Path = Path("var")
    """Where the gateway keeps its files: the SQLite database, received and sent documents."""
    database_url: str = Field(default="", repr=False)
    """SQLAlchemy async URL; defaults to ``sqlite+aiosqlite:///<data_dir>/o2c.db``.
    Left out of ``repr`` because it may hold a password."""
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    sftp_host: str = "127.0.0.1"
    sftp_port: int = Field(default=2222, ge=1, le=65535)
    partners_dir: Path = Path("partners")
    mappings_dir: Path = Path("mappings")
    drop_dir: Path | None = None
    """A folder whose files are received for whichever partner their content names
    (relative to ``data_dir`` unless absolute); off unless set. See ``adapters/folder.py``."""
    secrets_dir: Path | None = None
    """A directory holding one file per secret, named as the profiles name it."""
    max_document_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    """Largest inbound document accepted, X12 or XML."""
    our_isa_qualifier: IsaQualifier = "ZZ"
    our_isa_id: IsaId = "O2CGATEWAY"
    our_gs_id: GsId = "O2CGATEWAY"
    workers: int = Field(default=1, ge=0, le=64)
    """Worker tasks a process of the ``worker`` (or ``all``) role runs."""
    worker_batch: int = Field(default=50, ge=1, le=10_000)
    """Documents a worker claims at once."""
    worker_concurrency: int = Field(default=8, ge=1, le=256)
    """Documents of a batch a worker has in progress at once (overlapping I/O waits)."""
    lease_seconds: float = Field(default=60.0, gt=0)
    """How long a claim lasts; a dead worker's claims are taken over after it."""
    max_attempts: int = Field(default=5, ge=1, le=1000)
    """Attempts before a document that keeps failing is parked as ``failed``."""
    retry_base_seconds: float = Field(default=2.0, gt=0)
    """First retry delay; it doubles with each attempt (with jitter of 0.5x to 1.5x)."""
    retry_max_seconds: float = Field(default=300.0, gt=0)
    """Longest retry delay."""
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    """Where a ``worker`` or ``sftp`` process serves ``/metrics`` and ``/healthz`` (on
    ``http_host``); None: not at all. ``api`` and ``all`` serve them on ``http_port``."""
    payloads: Literal["files", "database"] = "files"
    """Where raw payloads are kept: ``files`` under ``data_dir/payloads`` (fsynced), or
    ``database`` (in the ``payloads`` table). Processes on several machines need
    ``database`` (or a ``data_dir`` they all share): a worker reads what an API process on
    another machine received."""
    api_key_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    """How long the API remembers a key it found live (0: look every key up each time).

    A revoked key is refused by running gateways within this time."""
    webhook_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    """Where alerts (parked failures, duplicates) are posted; None logs them only."""
    webhook_secret: SecretName | None = None
    """Name of the secret that signs alerts (``X-O2C-Signature: sha256=<hmac>``)."""
    invoice_poll_seconds: float = Field(default=30.0, gt=0)
    """How often posted invoices are fetched from an ERP connector that lists them."""
    invoice_page_size: int = Field(default=100, ge=1, le=1000)
    """Invoices fetched per ERP call (and sent per transaction)."""
    payment_push_seconds: float = Field(default=5.0, gt=0)
    """How often cash applications are pushed to an ERP connector that takes payments."""
    dso_period_days: int = Field(default=90, ge=1, le=366)
    """The sales period (days) of the daily DSO snapshots and the dashboard's default."""
    ack_check_seconds: float = Field(default=60.0, gt=0)
    """How often sent documents whose 997/999 is past due are marked ``overdue``."""
    erp: dict[str, Any] = Field(default_factory=lambda: {"connector": "folder", "path": "erp"})
    """The ERP connector: ``connector`` names it (``memory``, ``folder``...); the other
    keys are its settings (``folder``: ``path``, relative to ``data_dir`` unless absolute)."""

    @model_validator(mode="before")
    @classmethod
    def _default_database_url(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("database_url"):
            data_dir = data.get("data_dir") or Path("var")
            return {**data, "database_url": f"sqlite+aiosqlite:///{Path(data_dir)}/o2c.db"}
        return data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments win over ``O2C_*`` variables, which win over the YAML settings file."""
        return init_settings, env_settings, _FileSource(settings_cls)

    @classmethod
    def load(cls, config_file: Path | None = None) -> Settings:
        """Build the settings from the environment and an optional YAML settings file.

        Without ``config_file``, ``$O2C_CONFIG_FILE`` is used, else ``./o2c.yaml`` when it
        exists. Environment variables win over the file.

        Raises:
            ConfigError: the file is missing or not YAML, or a value is wrong; ``problems``
                has one entry per wrong value, naming the variable or the file and line.
        """
        doc = _settings_file(config_file)
        values = doc.data if doc is not None else {}
        if not isinstance(values, dict):
            assert doc is not None
            raise ConfigError(f"{doc.display}:1: expected a mapping of setting names to values")
        token = _FILE_VALUES.set(values)
        try:
            return cls()
        except ValidationError as exc:
            problems = [_settings_problem(err, doc) for err in exc.errors()]
            raise ConfigError(_summary(problems), problems=problems) from exc
        finally:
            _FILE_VALUES.reset(token)

    def secret(self, name: str) -> SecretStr:
        """Resolve a named secret from ``O2C_SECRET_<NAME>``, else ``<secrets_dir>/<name>``.

        In the variable name, the secret name is upper-cased and every character other
        than a letter or digit becomes ``_``. A file's trailing line break is dropped.

        Raises:
            ConfigError: the secret is in neither place, or the name is not a valid name;
                the message names the secret and both places looked, never a value.
        """
        if not _SECRET_NAME.fullmatch(name):
            raise ConfigError(f"{name!r} is not a valid secret name")
        variable = secret_variable(name)
        value = os.environ.get(variable)
        if value:
            return SecretStr(value)
        if self.secrets_dir is not None:
            path = self.secrets_dir / name
            try:
                content = path.read_text(encoding="utf-8").rstrip("\r\n")
            except FileNotFoundError:
                pass
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"secret {name!r}: cannot read {path}: {exc}") from exc
            else:
                if content:
                    return SecretStr(content)
                raise ConfigError(f"secret {name!r}: the file {path} is empty")
            where = f"the file {path}"
        else:
            where = "no secrets directory (O2C_SECRETS_DIR is not set)"
        raise ConfigError(
            f"secret {name!r} is not set: looked for the environment variable {variable} "
            f"and {where}"
        )


def secret_variable(name: str) -> str:
    """The environment variable that holds secret ``name``: ``O2C_SECRET_ACME_SFTP_KEY``."""
    return SECRET_ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", name.upper())


def _settings_file(config_file: Path | None) -> YamlDocument | None:
    if config_file is None:
        chosen = os.environ.get(CONFIG_FILE_ENV)
        if chosen:
            config_file = Path(chosen)
        elif DEFAULT_CONFIG_FILE.is_file():
            config_file = DEFAULT_CONFIG_FILE
        else:
            return None
    if not config_file.is_file():
        raise ConfigError(f"settings file not found: {config_file}")
    return read_yaml(config_file, display=str(config_file))


def _settings_problem(err: Any, doc: YamlDocument | None) -> str:
    loc = tuple(err["loc"])
    name = str(loc[0]) if loc else ""
    variable = ENV_PREFIX + name.upper()
    message = explain(err, loc=loc, owner=Settings)
    if any(key.upper() == variable for key in os.environ):
        return f"environment variable {variable}: {message}"
    if doc is not None and isinstance(doc.data, dict) and name in doc.data:
        line, node = doc.lookup(loc)
        return f"{doc.display}:{line}: {name}: {explain(err, loc=loc, owner=Settings, node=node)}"
    if err["type"] == "extra_forbidden" and doc is not None:
        return doc.problem(loc, message)
    return f"setting {name or '(all)'}: {message}"


def _summary(problems: list[str]) -> str:
    count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
    return f"settings are wrong ({count}):\n" + "\n".join(f"  {p}" for p in problems)
