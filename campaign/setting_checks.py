"""What a setting that carries or names a secret must look like.

A URL a token is sent to (https, or http to this machine), the name of an environment
variable (never the secret itself), and a database URL (well formed, so that its password
can be found and kept out of every message; no message here ever quotes it).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")
#: A database URL's query keys whose value is a secret.
_SECRET_QUERY_KEYS = ("password", "sslpassword")
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ENCODE_HINT = (
    "write these characters of a user name or password percent-encoded: / as %2F, @ as %40, "
    ": as %3A, ? as %3F, # as %23, % as %25, a space as %20"
)


def is_loopback_host(host: str | None) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1: this machine, so nothing leaves it."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secure_url_problem(url: str) -> str | None:
    """Why a secret must not be sent to ``url`` (None: it may): ``https`` with a host,
    no user name or password of its own; ``http`` only to this machine (tests)."""
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port
    except ValueError:
        return "it is not a web address (a port that is not a number, or a stray character)"
    if parts.scheme not in ("https", "http") or not host:
        return "it must be a web address starting with https://, like https://graph.facebook.com"
    if parts.username is not None or parts.password is not None:
        return "it must not hold a user name or password (user:password@)"
    if parts.scheme == "http" and not is_loopback_host(host):
        return (
            "it must start with https:// — over http:// the secret sent with each request "
            "would cross the network unencrypted (http:// is only allowed to this machine, "
            "127.0.0.1 or localhost, for tests)"
        )
    return None


def env_name_problem(name: str) -> str | None:
    """Why ``name`` is not an environment variable's name (None: it is one). A name is
    letters, digits and _; one that looks random (a token, a password) is refused too."""
    mixed_case = name != name.upper() and name != name.lower()
    looks_random = (
        len(name) > 64
        or ("_" not in name and len(name) >= 20)
        or (mixed_case and any(c.isdigit() for c in name))
    )
    if _ENV_NAME.match(name) and not looks_random:
        return None
    return (
        "this must be the NAME of an environment variable (letters, digits and _, not "
        "starting with a digit, like CAMPAIGN_FACEBOOK_TOKEN), and the value given is not "
        "one. Put the variable's name here and the secret itself in the environment; if a "
        "secret was written here, it is in git now: replace it (rotate it) as well."
    )


def database_url_problem(url: str) -> str | None:
    """Why ``url`` is not a well-formed database URL (None: it is), never quoting it: it may
    hold a password. ``sqlite:///file``, or ``postgresql+psycopg://user:pw@host:port/db``."""
    scheme, separator, rest = url.partition("://")
    if not separator or scheme not in DATABASE_SCHEMES:
        return (
            "it must start with sqlite:/// (a file) or postgresql+psycopg:// (a server), like "
            "postgresql+psycopg://campaign@db.example:5432/campaign"
        )
    if scheme == "sqlite":
        if rest and not rest.startswith("/"):
            return "a SQLite URL is sqlite:/// and a file's path (three slashes)"
        return None
    if any(character.isspace() or ord(character) < 32 for character in url):
        return f"it holds a space or a control character; {_ENCODE_HINT}"
    if "#" in rest:
        return f"it holds a #; {_ENCODE_HINT}"
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    return _server_url_problem(rest[:cut], rest[cut:])


def _server_url_problem(authority: str, tail: str) -> str | None:
    """``user:password@host:port`` and ``/database?query`` of a server's URL."""
    if "@" in tail:
        return (
            "the user name or password holds a character that ends it early, so the host "
            f"cannot be told from the password; {_ENCODE_HINT}"
        )
    userinfo, _, hostport = authority.rpartition("@")
    if "@" in userinfo:
        return f"the password holds an @; {_ENCODE_HINT}"
    if _PERCENT.search(userinfo) or _PERCENT.search(tail):
        return f"a % is not followed by two hexadecimal digits; {_ENCODE_HINT}"
    if hostport.startswith("["):
        host, bracket, port_part = hostport[1:].partition("]")
        if not bracket or (port_part and not port_part.startswith(":")):
            return "an IPv6 address must be written in brackets, like [::1]:5432"
        port = port_part[1:] if port_part else None
    else:
        host, colon, port_text = hostport.partition(":")
        port = port_text if colon else None
        if not re.fullmatch(r"[A-Za-z0-9._~!$&'()*+,;=%-]*", host):
            return f"the host name holds a character a host name cannot have; {_ENCODE_HINT}"
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        return "the port (after the host and a colon) must be a number from 1 to 65535, like 5432"
    return None


def database_url_has_password(url: str) -> bool:
    """Whether a (well-formed) database URL holds a password: ``user:pw@`` or ``?password=``."""
    scheme, _, rest = url.partition("://")
    if scheme == "sqlite":
        return False
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    userinfo, at, _ = rest[:cut].rpartition("@")
    if at and userinfo.partition(":")[2]:
        return True
    query = rest[cut:].partition("?")[2]
    return any(key.lower() in _SECRET_QUERY_KEYS and value for key, value in parse_qsl(query))


def folder_inside_problem(base: Path, written: str) -> str | None:
    """Why the folder ``written`` in config.toml is not a real folder inside ``base`` (the
    config file's folder), or None: a settings file from a pull request must not send the
    tool to read elsewhere on the machine (absolute, ``..``, or through a symbolic link)."""
    relative = Path(written)
    if relative.is_absolute() or written.startswith("~") or ".." in relative.parts:
        return (
            "it must be a folder inside the campaign's folder (the one config.toml is in), "
            'written relative to it, like "posts".'
        )
    current = base
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            return (
                f"{current.relative_to(base)} is a symbolic link. Use the real folder inside "
                "the campaign's folder, or remove the link."
            )
    return None
