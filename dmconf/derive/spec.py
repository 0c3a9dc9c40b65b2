"""The ``derive:`` block of a definition: what a derived dataset is made from, and how.

```yaml
derive:
  inputs:                                   # name -> a dataset id, or {dataset: ID, part: PATH}
    images: {dataset: com.lecun.mnist, part: train.images}
    labels: {dataset: com.lecun.mnist, part: train.labels}
  step: idx-to-npy                          # a registered step: short name or import path
  version: 1                                # optional: the step version the definition expects
  params: {dtype: float32, scale: 0.00392156862745098}
```

Only the shape is checked here (pure pydantic, nothing imported): the step, its parameters and
the inputs are resolved when the output's key is computed (:mod:`dmconf.derive.key`).

A *resource* may be built instead of downloaded (:class:`Build`, its ``build:`` field): the
code of the installed plugin that defines the dataset writes it, after the resources it reads
(:mod:`dmconf.derive.resource`). The block names that code for identity and messages; it never
chooses what runs.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["PLUGIN_CODE", "Build", "Derive", "Input"]

INPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PART = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)?$")
#: the one step that builds a resource: code the defining plugin's module attached to it
PLUGIN_CODE = "plugin-code"


class Input(BaseModel):
    """One input of a step: a dataset (looked up in the catalogue) and a part of its object."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str = Field(description="the id of the dataset, as anywhere else")
    part: str = Field(default="", description="attribute path in its typed object (train.images)")

    @model_validator(mode="before")
    @classmethod
    def _plain_id(cls, value: Any) -> Any:
        return {"dataset": value} if isinstance(value, str) else value

    @field_validator("part")
    @classmethod
    def _check_part(cls, value: str) -> str:
        if not PART.match(value):
            raise ValueError("expected attribute names separated by dots (train.images)")
        return value


class Derive(BaseModel):
    """How a derived dataset is made: named inputs, a registered step, its parameters."""

    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Input] = Field(description="name -> the dataset (or part) the step reads")
    step: str = Field(description="a registered step: short name (idx-to-npy) or import path")
    version: int | None = Field(
        default=None, ge=0,
        description="the step version this definition was written for (checked when given)",
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="the step's parameters (validated by its model)"
    )

    @field_validator("inputs")
    @classmethod
    def _check_names(cls, value: dict[str, Input]) -> dict[str, Input]:
        if not value:
            raise ValueError("a derived dataset needs at least one input")
        for name in value:
            if not INPUT_NAME.match(name):
                raise ValueError(f"input name {name!r}: expected a Python identifier")
        return value


class Build(BaseModel):
    """A resource that the code of the plugin defining the dataset builds while preparing.

    ``code``, ``plugin``, ``version`` and ``params`` say what builds it (they enter the
    definition's content digest, and the resource's key with its inputs' checksums); what runs
    is the code the plugin's Python module attached to the definition, never something this
    block names: a definition read from YAML cannot run anything.
    """

    model_config = ConfigDict(extra="forbid")

    step: Literal["plugin-code"] = Field(
        description="plugin-code: the code of the installed plugin that defines the dataset")
    code: str = Field(description="the class whose code builds it (module:qualname)")
    plugin: str = Field(description="the distribution that provides that code")
    version: str = Field(description="its version (a new one builds the resource again)")
    inputs: list[str] = Field(
        default_factory=list, description="other resources of the dataset it reads (built after "
        "them; their checksums are part of its key)")
    datasets: list[str] = Field(
        default_factory=list, description="other datasets it reads, prepared first (by id)")
    params: dict[str, Any] = Field(
        default_factory=dict, description="its parameters, as far as they can be named")
