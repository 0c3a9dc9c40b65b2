"""Data-use agreements: terms a dataset's publisher asks each user to accept before use.

A definition's ``terms`` (text, or the URL where they are published) hold them.
:func:`require_accepted` stops ``prepare`` until this user has accepted them: ``dmconf accept
ID`` (:func:`accept`) records the id in ``agreements.json`` of the user config folder, and the
settings' ``accepted:`` list counts too (for clusters: one line in a shared settings file).
Acceptance is per user and per dataset, never implied by another user's download. Nothing
here ever prompts: a job, a Hydra sweep or a script fails at once with the command to run.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from dmconf.errors import AgreementRequired, StorageError

if TYPE_CHECKING:
    from dmconf.definition import DatasetDefinition
    from dmconf.settings import Settings

__all__ = ["accept", "agreements_file", "describe_terms", "is_accepted", "require_accepted"]


def agreements_file() -> Path:
    """Where this user's acceptances are recorded."""
    import platformdirs

    return Path(platformdirs.user_config_dir("dmconf", appauthor=False)) / "agreements.json"


def _recorded() -> dict[str, str]:
    with contextlib.suppress(OSError, ValueError):
        content = json.loads(agreements_file().read_text(encoding="utf-8"))
        if isinstance(content, dict):
            return {str(k): str(v) for k, v in content.items()}
    return {}


def is_accepted(definition: DatasetDefinition, settings: Settings) -> bool:
    """Whether this user accepted the terms (or the dataset has none)."""
    if not definition.terms:
        return True
    return definition.dataset_id in settings.accepted or definition.dataset_id in _recorded()


def require_accepted(definition: DatasetDefinition, settings: Settings) -> None:
    """Raise :class:`AgreementRequired` with the terms unless they were accepted."""
    if not is_accepted(definition, settings):
        raise AgreementRequired(dataset=definition.id,
                                terms=describe_terms(definition.terms or ""))


def describe_terms(terms: str) -> str:
    """The terms on one line; terms given as a URL say where to read them."""
    text = " ".join(terms.split())
    if text.startswith(("https://", "http://")) and " " not in text:
        return f"read them at {text}"
    return text


def accept(definition: DatasetDefinition) -> Path:
    """Record that this user accepts the dataset's terms; return the file written."""
    import datetime

    path = agreements_file()
    recorded = _recorded()
    recorded[definition.dataset_id] = datetime.datetime.now(datetime.timezone.utc).isoformat()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(recorded, indent=2, sort_keys=True), "utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StorageError(path=str(path), reason=exc.strerror or str(exc)) from exc
    return path
