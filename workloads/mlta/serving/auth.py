"""API keys: hashed by the operator, checked by the service, never stored in plain text.

A key is whatever the Secret's data entry holds (at least :data:`MIN_KEY_LENGTH` characters;
``openssl rand -hex 24`` makes a good one). The operator turns each entry into
``HMAC-SHA256(salt, key)`` with a per-deployment salt and hands the service only these
digests (Serve ``user_config``), so neither the Serve config, the Ray dashboard, a log line nor
the CR status ever holds a key. Rotating a key is editing the Secret: the operator sees the new
digest and Serve's ``reconfigure()`` swaps the key set on live replicas, without a restart.

Checking a request hashes the presented key once and compares the digest with every stored
digest by ``hmac.compare_digest`` without stopping at a match, so the time taken says nothing
about which key, or how much of one, matched.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..errors import ServingError
from ..specs.modeldeployment import AuthSpec, RateLimitSpec, Scope
from ..specs.serving import HashedKey

MIN_KEY_LENGTH = 16
BEARER = "bearer "


def key_digest(salt: str, key: str) -> str:
    """HMAC-SHA256 of ``key`` under ``salt``, hex (what the service stores and compares)."""
    return hmac.new(salt.encode(), key.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's name (never the key), its scopes and rate limit."""

    name: str
    scopes: frozenset[str]
    rate_limit: RateLimitSpec | None = None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


ANONYMOUS = Principal("anonymous", frozenset(s.value for s in Scope))


class KeyStore:
    """The live key set of one replica."""

    def __init__(self, keys: Iterable[HashedKey] = (), salt: str = "") -> None:
        self.salt = salt
        self._entries = [(bytes.fromhex(k.digest),
                          Principal(k.name, frozenset(str(s) for s in k.scopes), k.rate_limit))
                         for k in keys]

    def __len__(self) -> int:
        return len(self._entries)

    def authenticate(self, presented: str | None) -> Principal | None:
        """The principal whose key was presented, or None (unknown, empty or missing)."""
        if not presented or not self._entries:
            return None
        digest = hmac.new(self.salt.encode(), presented.encode(), hashlib.sha256).digest()
        found: Principal | None = None
        for stored, principal in self._entries:
            if hmac.compare_digest(stored, digest):  # no early exit: every entry is compared
                found = principal
        return found


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
    auth = headers.get("authorization")
    if auth and auth[:7].lower() == BEARER:
        return auth[7:].strip() or None
    key = headers.get("x-api-key")
    return key.strip() if key else None


def hash_secret(data: Mapping[str, str], auth: AuthSpec, salt: str) -> list[HashedKey]:
    """The service's key list from a Secret's decoded data; ServingError naming bad entries.

    Errors name the entry, never its value. A key listed in ``auth.keys`` but missing from the
    Secret is an error too: the spec says it should exist.
    """
    listed = {k.name: k for k in auth.keys}
    missing = sorted(set(listed) - set(data))
    if missing:
        raise ServingError(f"Secret {auth.secret_name} has no entry for key(s) {missing}",
                           hint="add them to the Secret or remove them from spec.auth.keys")
    short = sorted(name for name, value in data.items() if len(value.strip()) < MIN_KEY_LENGTH)
    if short:
        raise ServingError(
            f"Secret {auth.secret_name}: key(s) {short} are shorter than {MIN_KEY_LENGTH} "
            "characters", hint="use random keys, e.g. `openssl rand -hex 24`")
    if not data:
        raise ServingError(f"Secret {auth.secret_name} holds no keys",
                           hint="add one data entry per API key (name: key)")
    out = []
    for name in sorted(data):
        spec = listed.get(name)
        scopes = spec.scopes if spec is not None else auth.default_scopes
        out.append(HashedKey(name=name, digest=key_digest(salt, data[name].strip()),
                             scopes=list(scopes),
                             rate_limit=spec.rate_limit if spec is not None else None))
    return out
