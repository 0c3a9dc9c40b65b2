"""Machine-learning structures."""

from __future__ import annotations

from pydantic import Field

from dmconf.data import Base

__all__ = ["Supervised"]


class Supervised(Base):
    """A supervised dataset: its train, validation and test parts (each optional)."""

    train: Base | None = Field(default=None, description="training part")
    validation: Base | None = Field(default=None, description="validation part")
    test: Base | None = Field(default=None, description="test part")
