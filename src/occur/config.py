"""Settings, built once from flags and OCCUR_* variables and handed down.

Nothing else in occur reads the environment: tests and the CLI build a Settings and
pass it on, so every process that shares a store also shares one understanding of it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8800
DEFAULT_MAX_DEFINITIONS = 500
DEFAULT_INGEST_QUEUE_EVENTS = 50_000
# The tracking script's collector: requests a second per visitor (utk) and per address.
# A page sends a beacon per page view and per batch of events, so 20 leaves a person
# clicking quickly ample room; 100 lets a whole office behind one address browse.
DEFAULT_COLLECT_VISITOR_RATE = 20
DEFAULT_COLLECT_ADDRESS_RATE = 100
SECRET_KEY_FILE = "secret.key"
SQLITE_FILE = "occur.sqlite"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A setting has a value occur cannot use."""


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, got {value}")
    return value


def _non_negative_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    if raw.strip() == "0":
        return 0
    return _positive_int(env, name, default)


def normalise_database_url(url: str) -> str:
    """Read plain `postgresql://` URLs as psycopg 3 URLs, the one driver occur ships."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    public_url: str
    secret_key: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_definitions: int = DEFAULT_MAX_DEFINITIONS
    create_contacts_from_email: bool = True
    trust_proxy: bool = False
    send_rate_per_second: int = 0  # 0: no per-portal limit
    ingest_queue_events: int = DEFAULT_INGEST_QUEUE_EVENTS
    collect_visitor_rate_per_second: int = DEFAULT_COLLECT_VISITOR_RATE  # 0: no limit
    collect_address_rate_per_second: int = DEFAULT_COLLECT_ADDRESS_RATE  # 0: no limit

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
    ) -> Settings:
        """Build settings from OCCUR_* variables; flags given by the CLI win."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("OCCUR_DATA_DIR") or "./occur-data").resolve()
        host = host or env.get("OCCUR_HOST") or DEFAULT_HOST
        port = port or _positive_int(env, "OCCUR_PORT", DEFAULT_PORT)
        raw_url = env.get("OCCUR_DATABASE_URL") or ""
        database_url = (
            normalise_database_url(raw_url) if raw_url else f"sqlite:///{data_dir / SQLITE_FILE}"
        )
        public_url = (env.get("OCCUR_PUBLIC_URL") or f"http://{host}:{port}").rstrip("/")
        if not public_url.startswith(("http://", "https://")):
            raise SettingsError(
                f"OCCUR_PUBLIC_URL must start with http:// or https://, got {public_url!r}"
            )
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            public_url=public_url,
            secret_key=env.get("OCCUR_SECRET_KEY") or "",
            host=host,
            port=port,
            max_definitions=_positive_int(env, "OCCUR_MAX_DEFINITIONS", DEFAULT_MAX_DEFINITIONS),
            create_contacts_from_email=_flag(env, "OCCUR_CREATE_CONTACTS_FROM_EMAIL", True),
            trust_proxy=_flag(env, "OCCUR_TRUST_PROXY", False),
            send_rate_per_second=_non_negative_int(env, "OCCUR_SEND_RATE_PER_SECOND", 0),
            ingest_queue_events=_positive_int(
                env, "OCCUR_INGEST_QUEUE_EVENTS", DEFAULT_INGEST_QUEUE_EVENTS
            ),
            collect_visitor_rate_per_second=_non_negative_int(
                env, "OCCUR_COLLECT_VISITOR_RATE_PER_SECOND", DEFAULT_COLLECT_VISITOR_RATE
            ),
            collect_address_rate_per_second=_non_negative_int(
                env, "OCCUR_COLLECT_ADDRESS_RATE_PER_SECOND", DEFAULT_COLLECT_ADDRESS_RATE
            ),
        )

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_secret_key(self) -> Settings:
        """Return settings whose secret key is set, generating it once into the data dir.

        Every process that serves the same data dir must sign with the same key, so the
        generated key is written to disk (mode 0600) and read back afterwards.
        """
        if self.secret_key:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / SECRET_KEY_FILE
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return replace(self, secret_key=path.read_text().strip())
