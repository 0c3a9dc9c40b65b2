"""``hf://datasets/OWNER/NAME@REVISION/PATH``: a file of a Hugging Face dataset repository.

Fetched over HTTP from the hub's resolve endpoint (``HF_ENDPOINT``), with the user's token when
there is one (the credential layer sends it to the hub's own origin, never to the storage the
hub redirects to), so it resumes, retries and is verified like any https URL. A gated repository
without a token fails with one line saying where to accept the terms and how to give the token.
"""

from __future__ import annotations

import requests

from dmconf.fetch.base import Sink
from dmconf.fetch.http import HTTPFetcher
from dmconf.huggingface.hub import gated_message, parse_hf_url, with_revision

__all__ = ["HubFetcher", "with_revision"]


class HubFetcher(HTTPFetcher):
    """GET the file from the hub's resolve endpoint (which redirects to its storage)."""

    def fetch(self, url: str, sink: Sink) -> None:
        hub_file = parse_hf_url(url)
        self.get(url, hub_file.resolve_url(), sink)

    def explain(self, url: str, response: requests.Response) -> str | None:
        return gated_message(
            parse_hf_url(url).repo, url, response.status_code, response.headers.get("X-Error-Code")
        )
