"""A served dataset with versions and variants: ``test.v`` (2.1.0 and full by default)."""

from __future__ import annotations

import hashlib

import yaml
from httpserver import FileServer

__all__ = ["CONTENT", "VERSIONED_ID", "versioned_definition"]

VERSIONED_ID = "test.v"
# What each version and variant's one file holds (the typed object is a File).
CONTENT = {
    "2.1.0": b"version 2.1.0, every example\n",
    "2.0.0": b"version 2.0.0, every example\n",
    "small": b"a small subset\n",
}


def versioned_definition(server: FileServer, prefix: str = "v") -> str:
    """Versions 1.0.0 (notes only), 2.0.0 (another file), 2.1.0 (default), 2.2.0-rc.1, and the
    variants full (default) and small (another file, and a second resource)."""

    def resource(name: str) -> dict:
        server.files[f"{prefix}/{name}.txt"] = CONTENT[name]
        return {"url": server.url(f"{prefix}/{name}.txt"),
                "sha256": hashlib.sha256(CONTENT[name]).hexdigest(), "size": len(CONTENT[name])}

    definition = {
        "name": "Versioned (test)",
        "description": "One text file per version and variant, served from 127.0.0.1.",
        "version": "2.1.0",
        "variant": "full",
        "resources": {"text": resource("2.1.0")},
        "type": "file",
        "data": {"path": "text"},
        "versions": {
            "2.2.0-rc.1": {"notes": "A pre-release: partial versions never pick it."},
            "2.1.0": {"notes": "Fixed the labels."},
            "2.0.0": {"notes": "First 2.x.", "resources": {"text": resource("2.0.0")}},
            "1.0.0": {"notes": "The old layout."},
        },
        "variants": {
            "full": {"notes": "Every example."},
            "small": {"notes": "A subset.", "resources": {"subset": resource("small")},
                      "data": {"path": "subset"}},
        },
    }
    return yaml.safe_dump(definition, sort_keys=False)
