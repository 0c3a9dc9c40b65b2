"""A requests session that sends each URL its own credential and re-decides at redirects.

requests already drops ``Authorization`` when a redirect changes host, port or scheme, but
it keeps any other header set by the caller (``X-Api-Key``), and it applies ``~/.netrc``
again to the new URL by host alone, so a redirect to another port of the same host would
carry the netrc password there. Here every header a credential set is removed at each
redirect (:meth:`CredentialSession.rebuild_auth`, the hook requests provides for this), then
the new URL gets what its own rule gives: a settings rule naming it, or a host-wide source
(netrc, the hub's token) only where requests itself would keep authentication (same scheme,
host and port, or http to https on the default ports).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests
from requests.auth import AuthBase

from dmconf.credentials import credential_for
from dmconf.credentials.base import Credential

if TYPE_CHECKING:
    from requests.models import PreparedRequest

    from dmconf.settings import Settings

__all__ = ["CredentialSession"]


class _Send(AuthBase):
    """Puts a credential on a request (basic authentication or headers)."""

    def __init__(self, credential: Credential | None) -> None:
        self.credential = credential

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        credential = self.credential
        if credential is not None and credential.basic is not None:
            request.prepare_auth(credential.basic)
        if credential is not None:
            request.headers.update(credential.headers)
        return request


class CredentialSession(requests.Session):
    """``get(url)`` sends the credential of ``url``; ``credential`` is the one of the URL
    that answered last (for messages: its rule's name, never its value)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.credential: Credential | None = None
        self._first_url = ""
        self._sent: set[str] = {"Authorization"}  # and whatever a credential adds

    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:
        text = url.decode() if isinstance(url, bytes) else url
        self._first_url = text
        self.credential = credential_for(text, self.settings)
        self._remember(self.credential)
        # An explicit auth (even one that sends nothing) keeps requests from adding netrc's.
        return super().get(text, auth=_Send(self.credential), **kwargs)

    def rebuild_auth(self, prepared_request: PreparedRequest, response: requests.Response
                     ) -> None:
        headers = prepared_request.headers
        for name in self._sent:
            headers.pop(name, None)
        url = prepared_request.url or ""
        credential = credential_for(url, self.settings)
        if credential is not None and not credential.explicit and self.should_strip_auth(
                self._first_url, url):
            credential = None  # host-wide sources stay with the origin they were asked for
        self.credential = credential
        self._remember(credential)
        _Send(credential)(prepared_request)

    def _remember(self, credential: Credential | None) -> None:
        if credential is not None:
            self._sent.update(credential.headers)
            if credential.basic is not None:
                self._sent.add("Authorization")
