"""Credentials that change during a run: a token read from the environment or a command (and read again when
the target refuses it), and AWS SigV4 signatures (the `sigv4` extra: botocore).

Both drivers ask an `Auth` for the headers of each request just before it goes out, and, after an HTTP 401,
whether a fresh token is worth one more attempt. Every token it ever held is kept in `secrets`, which the
redactor reads, so a token read in the middle of a run is scrubbed from reports like the first one.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

COMMAND_TIMEOUT = 30.0  # seconds a token command may take
SIGNED_HEADERS = ("host", "content-type", "x-amz-date", "x-amz-security-token")


class AuthError(Exception):
    """No usable credential; the message names the profile key and never holds a secret."""


@dataclass
class TokenSource:
    """A bearer token from an environment variable or a command's standard output."""

    env: str | None = None
    command: str | None = None
    header: str = "Authorization"
    scheme: str = "Bearer"
    token: str = ""
    refreshes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def read(self) -> str:
        if self.env:
            value = os.environ.get(self.env, "").strip()
            if not value:
                raise AuthError(f"auth.token_env: environment variable {self.env} is not set")
            return value
        try:
            done = subprocess.run(
                self.command or "", shell=True, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
            )
        except subprocess.TimeoutExpired:
            raise AuthError(f"auth.token_command: no token within {COMMAND_TIMEOUT:g}s") from None
        # Neither its output nor its error stream is quoted: either may hold the secret.
        if done.returncode != 0:
            raise AuthError(f"auth.token_command: exited with status {done.returncode}")
        value = done.stdout.strip()
        if not value:
            raise AuthError("auth.token_command: printed no token")
        return value

    def value(self) -> str:
        return f"{self.scheme} {self.token}" if self.scheme else self.token


@dataclass
class SigV4:
    """Signs each request for an AWS endpoint with the credentials botocore finds (environment, profile, role)."""

    region: str
    service: str = "bedrock-agentcore"
    credentials: Any = None

    def load(self) -> None:
        try:
            import botocore.session
        except ImportError:
            raise AuthError("auth.sigv4: SigV4 signing needs botocore: pip install 'mcp-harness[sigv4]'") from None
        self.credentials = botocore.session.Session().get_credentials()
        if self.credentials is None:
            raise AuthError("auth.sigv4: botocore found no AWS credentials (environment, profile or role)")

    def headers(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        signed = {k: v for k, v in headers.items() if k.lower() in SIGNED_HEADERS}
        request = AWSRequest(method=method, url=url, data=body or b"", headers=signed)
        # Frozen per request: refreshable (role) credentials renew themselves before they expire.
        SigV4Auth(self.credentials.get_frozen_credentials(), self.service, self.region).add_auth(request)
        wanted = ("authorization", "x-amz-date", "x-amz-security-token")
        return {k: v for k, v in request.headers.items() if k.lower() in wanted}


@dataclass
class Auth:
    """What the profile's [auth] table asks for: a token, a signature, or both (a token in another header)."""

    token: TokenSource | None = None
    sigv4: SigV4 | None = None
    secrets: list[str] = field(default_factory=list)  # every token held so far, for the redactor

    def start(self) -> None:
        """Read the first token and load the signing credentials (raises AuthError)."""
        if self.token is not None:
            self._take(self.token.read())
        if self.sigv4 is not None:
            self.sigv4.load()

    @property
    def header_names(self) -> list[str]:
        names = [self.token.header] if self.token else []
        return names + (["Authorization", "X-Amz-Security-Token"] if self.sigv4 else [])

    @property
    def refreshes(self) -> int:
        return self.token.refreshes if self.token else 0

    def headers(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
        out = {self.token.header: self.token.value()} if self.token else {}
        if self.sigv4 is not None:
            out.update(self.sigv4.headers(method, url, {**headers, **out}, body))
        return out

    def refresh(self, sent: Mapping[str, str]) -> bool:
        """After a 401: read the token again. True when the request is worth sending once more — the token
        changed since `sent` went out (here or in another thread)."""
        if self.token is None:
            return False
        used = next((v for k, v in sent.items() if k.lower() == self.token.header.lower()), None)
        with self.token.lock:
            if used != self.token.value():
                return True  # another request already fetched a new one
            try:
                fresh = self.token.read()
            except AuthError:
                return False  # the 401 stands; the check or step reports it
            self.token.refreshes += 1
            if fresh == self.token.token:
                return False
            self._take(fresh)
            return True

    def _take(self, token: str) -> None:
        assert self.token is not None
        self.token.token = token
        self.secrets += [token, self.token.value()]
