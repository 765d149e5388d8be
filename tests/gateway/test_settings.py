"""Settings: defaults, env over file, precise problems, and secrets by name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from gateway.errors import ConfigError
from gateway.settings import Settings, secret_variable


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No O2C_* variable of the developer's shell leaks in; no o2c.yaml in the cwd."""
    for key in list(os.environ):
        if key.upper().startswith("O2C_") and key.upper() != "O2C_SAMPLES_DIR":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    settings = Settings.load()
    assert settings.data_dir == Path("var")
    assert settings.database_url == "sqlite+aiosqlite:///var/o2c.db"
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.sftp_port == 2222
    assert settings.partners_dir == Path("partners")
    assert settings.mappings_dir == Path("mappings")
    assert settings.secrets_dir is None
    assert settings.max_document_bytes == 50 * 1024 * 1024
    assert (settings.our_isa_qualifier, settings.our_isa_id, settings.our_gs_id) == (
        "ZZ",
        "O2CGATEWAY",
        "O2CGATEWAY",
    )


def test_database_url_follows_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("O2C_DATA_DIR", "/srv/o2c")
    assert Settings.load().database_url == "sqlite+aiosqlite:////srv/o2c/o2c.db"


def test_database_url_stays_out_of_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("O2C_DATABASE_URL", "postgresql+asyncpg://o2c:hunter2@db/o2c")
    settings = Settings.load()
    assert settings.database_url == "postgresql+asyncpg://o2c:hunter2@db/o2c"
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings)


def test_environment_wins_over_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    config.write_text("http_port: 9000\nsftp_port: 2022\nour_isa_id: ACMESUPPLY\n")
    monkeypatch.setenv("O2C_HTTP_PORT", "9100")
    settings = Settings.load(config)
    assert settings.http_port == 9100  # env
    assert settings.sftp_port == 2022  # file
    assert settings.our_isa_id == "ACMESUPPLY"
    assert settings.http_host == "127.0.0.1"  # default


def test_default_file_and_config_file_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "o2c.yaml").write_text("http_port: 8181\n")
    assert Settings.load().http_port == 8181
    other = tmp_path / "other.yaml"
    other.write_text("http_port: 8282\n")
    monkeypatch.setenv("O2C_CONFIG_FILE", str(other))
    assert Settings.load().http_port == 8282


def test_every_bad_value_is_named_with_its_source(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "o2c.yaml"
    config.write_text("http_host: 0.0.0.0\nour_isa_qualifier: 01\nhttp_prot: 80\n")
    monkeypatch.setenv("O2C_SFTP_PORT", "ssh")
    with pytest.raises(ConfigError) as caught:
        Settings.load(config)
    assert sorted(caught.value.problems) == sorted(
        [
            "environment variable O2C_SFTP_PORT: expected a whole number, found 'ssh'",
            f"{config}:2: our_isa_qualifier: expected text, found 01 "
            "(unquoted, YAML reads 01 as 1): write '01' in quotes",
            f"{config}:3: http_prot: unknown key; did you mean 'http_port'?",
        ]
    )


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="settings file not found"):
        Settings.load(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("http_port: [\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml:2: not valid YAML"):
        Settings.load(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- http_port\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        Settings.load(listed)


def test_secret_variable_name() -> None:
    assert secret_variable("acme-sftp.key") == "O2C_SECRET_ACME_SFTP_KEY"


def test_secret_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("O2C_SECRET_ACME_SFTP_KEY", "s3cr3t-value")
    secret = Settings.load().secret("acme-sftp.key")
    assert isinstance(secret, SecretStr)
    assert secret.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t" not in repr(secret)


def test_secret_from_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "ACME_API_KEY").write_text("from-file\n")
    monkeypatch.setenv("O2C_SECRETS_DIR", str(secrets))
    settings = Settings.load()
    assert settings.secret("ACME_API_KEY").get_secret_value() == "from-file"
    monkeypatch.setenv("O2C_SECRET_ACME_API_KEY", "from-env")
    assert settings.secret("ACME_API_KEY").get_secret_value() == "from-env"


def test_missing_secret_names_both_places(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.load().secret("ACME_SFTP_KEY")
    assert str(caught.value) == (
        "secret 'ACME_SFTP_KEY' is not set: looked for the environment variable "
        "O2C_SECRET_ACME_SFTP_KEY and no secrets directory (O2C_SECRETS_DIR is not set)"
    )
    monkeypatch.setenv("O2C_SECRETS_DIR", str(tmp_path))
    with pytest.raises(ConfigError) as caught:
        Settings.load().secret("ACME_SFTP_KEY")
    assert str(caught.value) == (
        "secret 'ACME_SFTP_KEY' is not set: looked for the environment variable "
        f"O2C_SECRET_ACME_SFTP_KEY and the file {tmp_path / 'ACME_SFTP_KEY'}"
    )


def test_empty_secret_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "EMPTY").write_text("\n")
    monkeypatch.setenv("O2C_SECRETS_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="is empty"):
        Settings.load().secret("EMPTY")


def test_secret_name_cannot_leave_the_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "outside").write_text("nope")
    inner = tmp_path / "secrets"
    inner.mkdir()
    monkeypatch.setenv("O2C_SECRETS_DIR", str(inner))
    with pytest.raises(ConfigError, match="not a valid secret name"):
        Settings.load().secret("../outside")
