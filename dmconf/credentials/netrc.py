"""``~/.netrc`` (or the file ``NETRC`` names), read by requests' own ``get_netrc_auth``."""

from __future__ import annotations

from dmconf.credentials.base import Credential, origin_of

__all__ = ["netrc_credential"]


def netrc_credential(url: str) -> Credential | None:
    """The login and password of the ``machine`` line for the URL's host, if there is one."""
    from requests.utils import get_netrc_auth

    found = get_netrc_auth(url, raise_errors=False)
    if not found:
        return None
    host = origin_of(url)[1]
    return Credential(f"~/.netrc (machine {host})", basic=(found[0], found[1]))
