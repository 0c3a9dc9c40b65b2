"""Image datasets (datamaestro_image's ``datamaestro_image.data``)."""

from __future__ import annotations

from pydantic import Field

from dmconf.data import Base, Generic
from dmconf.data.ml import Supervised
from dmconf.data.tensor import IDX

__all__ = ["Base", "Generic", "IDXImage", "ImageClassification", "LabelledImages"]


class IDXImage(IDX):
    """Images stored as an IDX tensor (N, height, width[, channels])."""


class LabelledImages(Base):
    """Images with one label each."""

    images: Base = Field(description="the images (an IDX tensor, a folder...)")
    labels: Base = Field(description="one label per image")


class ImageClassification(Supervised):
    """A supervised image-classification dataset."""

    train: LabelledImages | None = None
    validation: LabelledImages | None = None
    test: LabelledImages | None = None
