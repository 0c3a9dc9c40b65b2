"""The Hugging Face hub as dmconf uses it: endpoint, token, ``hf://`` URLs, the JSON API.

Read the way ``huggingface_hub`` reads them (its ``constants.py`` and ``utils/_auth.py``):
``HF_ENDPOINT`` (default ``https://huggingface.co``); the token from ``HF_TOKEN`` (or the older
``HUGGING_FACE_HUB_TOKEN``), else the file ``HF_TOKEN_PATH``, else ``$HF_HOME/token`` with
``HF_HOME`` defaulting to ``$XDG_CACHE_HOME/huggingface`` (``~/.cache/huggingface``), which is
what ``huggingface-cli login`` writes. The token is sent to the endpoint only: requests drops
the header when a redirect leaves the endpoint's host (the hub redirects file downloads to its
CDN).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from dmconf.errors import DefinitionError, DownloadError

__all__ = ["HubFile", "endpoint", "parse_hf_url", "token", "with_revision"]

DEFAULT_ENDPOINT = "https://huggingface.co"
# Owner and repository names as the hub allows them; nothing that could walk a URL path.
NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
REPO_PATTERN = re.compile(rf"^{NAME}/{NAME}$")
HF_URL = re.compile(rf"^hf://datasets/({NAME})/({NAME})(?:@([^/]+))?/(.+)$")
REVISION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


@dataclass(frozen=True)
class HubFile:
    """One file of a dataset repository: ``hf://datasets/OWNER/NAME[@REVISION]/PATH``."""

    repo: str
    path: str
    revision: str | None = None

    def resolve_url(self, base: str | None = None) -> str:
        """The hub's download URL of the file (``main`` when no revision pins it)."""
        revision = quote(self.revision or "main", safe="")
        return f"{base or endpoint()}/datasets/{self.repo}/resolve/{revision}/{quote(self.path)}"


def endpoint() -> str:
    """The hub's base URL: ``HF_ENDPOINT``, or huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def token() -> str | None:
    """The user's token, or None (anonymous): read where ``huggingface_hub`` keeps it."""
    from dmconf.credentials.huggingface import hub_token

    return hub_token()


def auth_headers() -> dict[str, str]:
    value = token()
    return {"Authorization": f"Bearer {value}"} if value else {}


def check_repo(repo: str) -> str:
    if not REPO_PATTERN.match(repo) or ".." in repo:
        raise DefinitionError(
            f"{repo!r} is not a Hugging Face dataset repository (expected OWNER/NAME)"
        )
    return repo


def check_path(path: str, where: str) -> str:
    """A path inside a repository: relative, no empty, ``.`` or ``..`` segment."""
    parts = path.split("/")
    if path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in path:
        raise DefinitionError(f"{where}: {path!r} is not a plain path inside the repository")
    return path


def parse_hf_url(url: str) -> HubFile:
    """Split ``hf://datasets/OWNER/NAME[@REVISION]/PATH``; anything else is a DefinitionError."""
    match = HF_URL.match(url)
    if not match:
        raise DefinitionError(
            f"{url!r} is not a Hugging Face file URL; expected hf://datasets/OWNER/NAME/PATH"
        )
    owner, name, revision, path = match.groups()
    if revision is not None and not REVISION_PATTERN.match(revision):
        raise DefinitionError(f"{url!r}: {revision!r} is not a revision")
    return HubFile(check_repo(f"{owner}/{name}"), check_path(path, url), revision)


def with_revision(url: str, revision: str) -> str:
    """``url`` pinned at ``revision`` (``hf://datasets/OWNER/NAME@REVISION/PATH``)."""
    hub_file = parse_hf_url(url)
    if hub_file.revision not in (None, revision):
        raise DefinitionError(
            f"{url!r} names revision {hub_file.revision!r} but `revision:` says {revision!r}"
        )
    return f"hf://datasets/{hub_file.repo}@{revision}/{hub_file.path}"


def gated_message(repo: str, what: str, status: int, code: str | None) -> str | None:
    """The one line for a repository the user may not read yet, or None."""
    page = f"{endpoint()}/datasets/{repo}"
    if code == "GatedRepo" or (status in (401, 403) and code != "RepoNotFound"):
        if token() is None:
            return (
                f"{what}: {repo} is gated: accept its terms at {page}, then give dmconf your "
                "token (set HF_TOKEN, or `huggingface-cli login`, which writes $HF_HOME/token)"
            )
        return (
            f"{what}: your token may not read {repo} (HTTP {status}): accept its terms at "
            f"{page} with that account, or use a token of an account that did"
        )
    if code == "RepoNotFound" or status == 401:
        return f"{what}: no dataset repository {repo} at {endpoint()} (or it is private)"
    if code == "RevisionNotFound":
        return f"{what}: {repo} has no such revision"
    if code == "EntryNotFound" or status == 404:
        return f"{what}: no such file in {repo} at that revision"
    return None


def api_get(path: str, repo: str, timeout: tuple[float, float] = (10, 60)) -> tuple[Any, Any]:
    """GET a JSON document of the hub's API; return it and the response (for paging)."""
    import requests

    from dmconf.fetch.http import HEADERS

    url = path if path.startswith(("http://", "https://")) else f"{endpoint()}{path}"
    try:
        response = requests.get(url, headers={**HEADERS, **auth_headers()}, timeout=timeout)
    except requests.RequestException as exc:
        raise DownloadError(f"{url}: {exc}", url=url) from None
    if response.status_code >= 400:
        code = response.headers.get("X-Error-Code")
        message = gated_message(repo, url, response.status_code, code)
        raise DownloadError(
            message or f"{url}: the hub answered HTTP {response.status_code}",
            url=url, status=response.status_code,
        )
    try:
        return response.json(), response
    except ValueError:
        raise DownloadError(f"{url}: the hub's answer is not JSON", url=url) from None
