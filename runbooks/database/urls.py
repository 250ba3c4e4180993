"""Database URLs and password masking: what a user names, shown without its secret."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from runbooks.database.sqlite_files import checked_sqlite_path
from runbooks.errors import UsageError

SUPPORTED = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}
PASSWORD_MASK = "***"
# libpq's parameters that carry a secret, wherever the URL puts them (``?password=…``).
SECRET_PARAMETERS = ("password", "sslpassword")


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed, validated database URL. ``str()`` is always the masked form."""

    url: URL

    @classmethod
    def parse(cls, text: str) -> DatabaseUrl:
        text = _encoded_at_signs((text or "").strip())
        try:
            url = make_url(text)
        except (ArgumentError, ValueError):
            raise UsageError(
                f"not a database URL: {mask_text(text)!r}; expected sqlite:///PATH or "
                "postgresql://USER@HOST:PORT/DATABASE"
            ) from None
        backend = SUPPORTED.get(url.get_backend_name())
        if backend is None:
            raise UsageError(
                f"unsupported database {url.get_backend_name()!r} in {cls(url)}: Galaxy runs on sqlite or postgresql"
            )
        if backend == "postgresql" and url.get_backend_name() == "postgres":
            url = url.set(drivername="postgresql")
        if backend == "sqlite" and not url.database:
            raise UsageError(f"{cls(url)} names no file: use sqlite:///relative/path or sqlite:////absolute/path")
        if backend == "postgresql" and not url.database:
            raise UsageError(f"{cls(url)} names no database: add /DATABASE at the end")
        return cls(url)

    @property
    def dialect(self) -> str:
        return SUPPORTED[self.url.get_backend_name()]

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def sqlite_path(self) -> Path:
        """The file's absolute path; a directory or a special file (FIFO, socket, device) is refused, unopened."""
        return checked_sqlite_path(self.url.database)

    @property
    def database_name(self) -> str:
        return self.url.database

    @property
    def password(self) -> str | None:
        """The password, from the ``user:password@`` slot or libpq's ``?password=``."""
        return self.url.password or self.url.query.get("password") or None

    def masked(self) -> str:
        hidden = {key: PASSWORD_MASK for key in self.url.query if key.lower() in SECRET_PARAMETERS}
        url = self.url.update_query_dict(hidden) if hidden else self.url
        return url.render_as_string(hide_password=True).replace("%2A%2A%2A", PASSWORD_MASK)

    def secret(self) -> str:
        """The full URL, password included: only for handing to a database driver."""
        return self.url.render_as_string(hide_password=False)

    def with_database(self, name: str) -> DatabaseUrl:
        return DatabaseUrl(self.url.set(database=name))

    def __str__(self) -> str:
        return self.masked()

    def __repr__(self) -> str:
        return f"DatabaseUrl({self.masked()!r})"


# user:PASSWORD@ up to the last @ of the word (a password may hold an unencoded @ or /).
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<password>[^\s]+)(?=@[^@\s]*)")
_PARAMETER_PASSWORD = re.compile(r"(?P<head>\b(?:ssl)?password\s*=\s*)(?P<password>'(?:[^'\\]|\\.)*'|[^\s&'\"]+)", re.I)


def mask_text(text: str, *secrets: str | None) -> str:
    """Hide passwords in free text: inside any URL, as a ``password=`` parameter, and any known secret anywhere."""
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + PASSWORD_MASK, text)
    text = _PARAMETER_PASSWORD.sub(lambda m: m.group("head") + PASSWORD_MASK, text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, PASSWORD_MASK)
    return text


def _encoded_at_signs(text: str) -> str:
    """``scheme://user:pa@ss@host/…``: the last ``@`` before the path ends the password (the rest are its own)."""
    scheme, separator, rest = text.partition("://")
    authority, slash, path = rest.partition("/")
    if not separator or authority.count("@") < 2:
        return text
    credentials, _, host = authority.rpartition("@")
    user, colon, password = credentials.partition(":")
    return f"{scheme}://{user}{colon}{quote(password, safe='')}@{host}{slash}{path}"


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
