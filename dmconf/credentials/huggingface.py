"""The Hugging Face token, where ``huggingface_hub`` keeps it, sent to the hub's host only.

With ``huggingface_hub`` installed, its own ``get_token()`` decides (``HF_TOKEN``, then the file
``huggingface-cli login`` wrote). Without it, the same places are read here: ``HF_TOKEN`` (or
the older ``HUGGING_FACE_HUB_TOKEN``), then ``HF_TOKEN_PATH``, then ``$HF_HOME/token``
(``HF_HOME`` defaults to ``$XDG_CACHE_HOME/huggingface``, that is ``~/.cache/huggingface``).
The hub is ``HF_ENDPOINT`` (default ``https://huggingface.co``).
"""

from __future__ import annotations

import os
from pathlib import Path

from dmconf.credentials.base import Credential, origin_of

__all__ = ["hub_credential", "hub_endpoint", "hub_token"]

DEFAULT_ENDPOINT = "https://huggingface.co"
RULE = "the Hugging Face token"


def hub_endpoint() -> str:
    """The hub's base URL."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def hub_token() -> str | None:
    """The user's token, or None."""
    try:
        from huggingface_hub import get_token
    except ImportError:
        return _token_without_hub()
    return get_token() or None


def _token_without_hub() -> str | None:
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        value = (os.environ.get(name) or "").strip()
        if value:
            return value
    explicit = os.environ.get("HF_TOKEN_PATH")
    if explicit:
        path = Path(explicit).expanduser()
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
        path = Path(os.environ.get("HF_HOME") or os.path.join(cache, "huggingface")) / "token"
    try:
        value = path.expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return value or None


def hub_credential(url: str) -> Credential | None:
    """The token as a bearer header, for URLs of the hub's own origin only."""
    if origin_of(url) != origin_of(hub_endpoint()):
        return None
    token = hub_token()
    if token is None:
        return Credential(RULE, missing="HF_TOKEN is not set and `huggingface-cli login` "
                          "was not run")
    return Credential(RULE, headers={"Authorization": f"Bearer {token}"})
