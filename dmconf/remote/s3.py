"""A remote in an S3 bucket (or any S3-compatible server): ``s3://bucket/prefix``.

Uses ``s3fs``; credentials come from a settings rule for the bucket's URL (``credentials:``
with ``profile``, or ``username_env``/``password_env`` naming the variables that hold the key
and secret, see :mod:`dmconf.credentials`), else from the usual AWS variables and files as boto
finds them. ``options`` are passed to ``s3fs.S3FileSystem`` (``endpoint_url`` for MinIO or
Ceph, ``anon: true`` for a public bucket read without credentials).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dmconf.errors import SettingsError
from dmconf.remote.base import Remote

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["S3Remote"]


class S3Remote(Remote):
    kind = "s3"
    extra = "s3"

    def _root(self, url: str) -> str:
        root = url[len("s3://"):].strip("/")
        if not root:
            raise SettingsError(f"remote {self.name!r}: {url} names no bucket (s3://bucket/prefix)")
        return root

    def _open_fs(self) -> AbstractFileSystem:
        from s3fs import S3FileSystem

        from dmconf.credentials import credential_for

        options = dict(self.options)
        credential = credential_for(self.url, self.settings)
        if credential is not None and credential.options:
            options = {**credential.options, **options}  # never written back to the settings
        config = dict(options.pop("config_kwargs", {}))
        config.setdefault("connect_timeout", self.settings.connect_timeout)
        config.setdefault("read_timeout", self.settings.read_timeout)
        return S3FileSystem(skip_instance_cache=True, config_kwargs=config, **options)

    def _makedirs(self, path: str) -> None:
        pass  # keys need no folders; makedirs on a bucket path would try to create the bucket
