"""Credentials: which secret goes with which URL, chosen per host and never in a definition.

:func:`credential_for` answers for one URL, in this order:

1. a rule of the settings' ``credentials:`` (:mod:`.rules`; longest URL prefix wins), which
   names the environment variable or file holding the secret;
2. ``~/.netrc`` (:mod:`.netrc`, read by requests);
3. the Hugging Face token, for the hub's own host (:mod:`.huggingface`).

S3 remotes (:mod:`dmconf.remote.s3`) add a rule's options to s3fs's and otherwise let boto
find its credentials as usual (environment, ``~/.aws``). HTTP requests go through
:class:`.session.CredentialSession`, which re-decides at every redirect, so a credential never
follows a redirect to another host or port. A :class:`.base.Credential` prints its rule's name,
never its secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dmconf.credentials.base import Credential, origin_of

if TYPE_CHECKING:
    from dmconf.settings import Settings

__all__ = ["Credential", "credential_for", "how_to_add", "origin_of"]


def credential_for(url: str, settings: Settings) -> Credential | None:
    """The credential for ``url``: one that can be sent, or one whose ``missing`` says why
    the matching rule gave nothing; None when no rule, netrc line or token is for it."""
    from dmconf.credentials.rules import matching_rule

    found = matching_rule(dict(settings.credentials), url)
    if found is not None:
        return found[1].credential(found[0])
    if origin_of(url)[0] in ("http", "https"):
        from dmconf.credentials.huggingface import hub_credential
        from dmconf.credentials.netrc import netrc_credential

        return netrc_credential(url) or hub_credential(url)
    return None


def how_to_add(url: str) -> str:
    """The advice that ends an authentication error: where a credential for ``url`` goes."""
    from dmconf.settings_sources import settings_file

    scheme, host, port = origin_of(url)
    shown = host if port in (None, 80, 443) else f"{host}:{port}"
    return (
        f"add a rule under `credentials:` in {settings_file()} with match: {scheme}://{shown}/ "
        "and password_env/token_env naming the environment variable that holds the secret, "
        f"or a line `machine {host} login USER password PASSWORD` in ~/.netrc"
    )
