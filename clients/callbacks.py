"""Which callback URLs each application type may register (RFC 8252, RFC 9700 §4.1)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from .types import AppType

LOOPBACK_NETLOCS = {"127.0.0.1", "[::1]"}
DEV_HOSTS = {"localhost", "127.0.0.1", "::1"}
# RFC 8252 §7.1: a private-use scheme is a reverse domain name of the app's owner.
PRIVATE_USE_SCHEME = re.compile(r"[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+")
FORBIDDEN_SCHEMES = {"javascript", "data", "file", "vbscript", "about", "blob"}
# After the host (a name, an IPv4 literal or a bracketed IPv6 literal): nothing, or a port.
AUTHORITY_PORT = re.compile(r"(?:\[[^\]]*\]|[^:\[\]]*)(?::(?P<port>.*))?")
PORT = re.compile(r"[1-9][0-9]{0,4}")


def port_valid(uri: str) -> bool:
    """Whether ``uri`` has no port, or one a socket can listen on: 1 to 65535, in decimal
    without leading zeros. A loopback callback may name any port when used (RFC 8252 §7.3):
    that is the only range it may name."""
    netloc = urlsplit(uri).netloc.rpartition("@")[2]
    match = AUTHORITY_PORT.fullmatch(netloc)
    if match is None:
        return False
    port = match.group("port")
    return port is None or (PORT.fullmatch(port) is not None and int(port) <= 65535)


def validate_callback(uri: str, *, app_type: str, allow_http_localhost: bool) -> None:
    """Raise ValidationError unless ``uri`` is a callback this type of app may register."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if not scheme or scheme in FORBIDDEN_SCHEMES:
        raise ValidationError(f"{uri}: not a callback URL.")
    if parts.fragment or "#" in uri:
        raise ValidationError(f"{uri}: a callback URL cannot have a fragment.")
    if "*" in uri:
        raise ValidationError(f"{uri}: wildcards are not allowed; list each URL.")
    if not port_valid(uri):
        raise ValidationError(f"{uri}: a port is a number from 1 to 65535.")

    if scheme == "https":
        if not parts.hostname:
            raise ValidationError(f"{uri}: a host is required.")
        return
    if scheme == "http":
        if app_type == AppType.NATIVE:
            # RFC 8252 §7.3: the loopback IP literal (not "localhost"); the port is chosen
            # by the app at run time, so it is registered without one.
            if parts.netloc not in LOOPBACK_NETLOCS:
                raise ValidationError(
                    f"{uri}: a native app's http callback must be the loopback IP without a port "
                    "(http://127.0.0.1/… or http://[::1]/…); any port is accepted when used."
                )
            return
        if allow_http_localhost and parts.hostname in DEV_HOSTS and not parts.username:
            return
        raise ValidationError(
            f"{uri}: web callbacks must use https (http only for localhost in development)."
        )
    if app_type == AppType.NATIVE and PRIVATE_USE_SCHEME.fullmatch(scheme):
        if not (parts.netloc or parts.path.strip("/")):
            raise ValidationError(f"{uri}: add a path after the scheme, e.g. {scheme}://callback.")
        return
    if app_type == AppType.NATIVE:
        raise ValidationError(
            f"{uri}: a native app's custom scheme must be a reverse domain name, "
            "such as com.abcinc.timesheets."
        )
    raise ValidationError(f"{uri}: web callbacks must use https.")


def validate_origin(origin: str, *, allow_http_localhost: bool) -> None:
    """A web origin for CORS: scheme, host and optional port; nothing else."""
    parts = urlsplit(origin)
    if parts.scheme not in {"https", "http"} or not parts.hostname or parts.path not in {"", "/"}:
        raise ValidationError(
            f"{origin}: an origin is scheme://host[:port], e.g. https://app.abcinc.example."
        )
    if parts.query or parts.fragment or parts.username:
        raise ValidationError(f"{origin}: an origin has no path, query, fragment or user.")
    if parts.scheme == "http" and not (allow_http_localhost and parts.hostname in {"localhost", "127.0.0.1"}):
        raise ValidationError(f"{origin}: origins must use https (http only for localhost in development).")
