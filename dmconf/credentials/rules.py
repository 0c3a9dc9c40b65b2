"""Credential rules of the settings file: a URL prefix and where the secret is kept.

::

    credentials:
      lab:                                   # the rule's name, printed in messages
        match: https://data.my-lab.org/      # scheme://host[:port]/path prefix (longest wins)
        username: me                         # or username_env: LAB_USER
        password_env: LAB_PASSWORD           # HTTP basic authentication
      kaggle:
        match: https://www.kaggle.com/api/
        token_env: KAGGLE_TOKEN              # Authorization: Bearer <token>
      api:
        match: https://api.example.org/
        token_file: ~/.config/example/token  # a file holding the token
        header: X-Api-Key                    # sent as X-Api-Key: <token> instead
      bucket:
        match: s3://private-bucket/
        profile: lab                         # an AWS profile (~/.aws/credentials)

The settings file names where a secret is, never the secret: a ``password`` or ``token`` key
is refused with the line to write instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dmconf.credentials.base import Credential, origin_of

__all__ = ["CredentialRule", "matching_rule"]

SECRET_KEYS = {"password": "password_env", "token": "token_env", "secret": "password_env",
               "key": "username_env", "api_key": "token_env"}


class CredentialRule(BaseModel):
    """One rule: which URLs it is for, and where the secret is kept (never the secret)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: str = Field(description="URL prefix: scheme://host[:port]/path (s3://bucket/ too)")
    username: str | None = Field(default=None, description="user name for basic authentication")
    username_env: str | None = Field(default=None, description="variable holding the user name")
    password_env: str | None = Field(default=None, description="variable holding the password")
    token_env: str | None = Field(default=None, description="variable holding a token")
    token_file: Path | None = Field(default=None, description="file holding a token")
    header: str = Field(
        default="Authorization",
        description="header carrying the token (Authorization: Bearer <token>, or <token>)")
    profile: str | None = Field(default=None, description="s3://: an AWS profile name")

    @model_validator(mode="before")
    @classmethod
    def _no_secret_here(cls, values: Any) -> Any:
        if isinstance(values, dict):
            for key, instead in SECRET_KEYS.items():
                if key in values:
                    raise ValueError(
                        f"`{key}:` would put a secret in the settings file; name the "
                        f"environment variable that holds it ({instead}: VARIABLE) or use "
                        "~/.netrc"
                    )
        return values

    @field_validator("match")
    @classmethod
    def _is_prefix(cls, value: str) -> str:
        parts = urlsplit(value)
        if not parts.scheme or not parts.netloc:
            raise ValueError(f"{value!r} is not a URL prefix (expected scheme://host/...)")
        if "@" in parts.netloc:
            raise ValueError(f"{value!r} holds a user name or password: leave them out")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> CredentialRule:
        basic = self.password_env is not None
        token = self.token_env is not None or self.token_file is not None
        if sum((basic, token, self.profile is not None)) != 1:
            raise ValueError(
                "give one of: password_env (with username or username_env), token_env or "
                "token_file, or profile (s3://)"
            )
        if basic and self.username is None and self.username_env is None:
            raise ValueError("password_env needs username or username_env")
        return self

    def covers(self, url: str) -> int | None:
        """The length of the prefix when the rule is for ``url`` (None when it is not)."""
        if origin_of(self.match) != origin_of(url):
            return None
        path = urlsplit(self.match).path or "/"
        wanted = urlsplit(url).path or "/"
        if wanted.startswith(path) or (wanted + "/") == path:
            return len(path)
        return None

    def credential(self, name: str) -> Credential:
        """What the rule gives now (the environment and files are read at each call)."""
        rule = f"settings rule {name!r}"
        if self.profile is not None:
            return Credential(rule, options={"profile": self.profile}, explicit=True)
        if self.password_env is not None:
            user = self.username if self.username is not None else _env(self.username_env)
            password = _env(self.password_env)
            if user is None or password is None:
                unset = [f"${name}" for name, got in ((self.username_env, user),
                                                      (self.password_env, password))
                         if name and got is None]
                return Credential(rule, missing=f"{', '.join(unset)} not set", explicit=True)
            return Credential(rule, basic=(user, password),
                              options={"key": user, "secret": password}, explicit=True)
        token, where = self._token()
        if token is None:
            return Credential(rule, missing=where, explicit=True)
        value = f"Bearer {token}" if self.header.lower() == "authorization" else token
        return Credential(rule, headers={self.header: value}, explicit=True)

    def _token(self) -> tuple[str | None, str]:
        if self.token_env is not None:
            return _env(self.token_env), f"${self.token_env} is not set"
        path = Path(self.token_file or "").expanduser()
        try:
            value = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            return None, f"{path} cannot be read: {getattr(exc, 'strerror', None) or exc}"
        return (value or None), f"{path} is empty"


def _env(name: str | None) -> str | None:
    value = os.environ.get(name) if name else None
    return value if value else None


def matching_rule(rules: dict[str, CredentialRule], url: str) -> tuple[str, CredentialRule] | None:
    """The rule for ``url`` with the longest prefix, with its name."""
    best: tuple[int, str, CredentialRule] | None = None
    for name, rule in rules.items():
        length = rule.covers(url)
        if length is not None and (best is None or length > best[0]):
            best = (length, name, rule)
    return (best[1], best[2]) if best else None
