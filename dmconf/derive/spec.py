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
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["Derive", "Input"]

INPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PART = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)?$")


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
