"""Data types: IDX for every element type, CSV, nested type tags, paths, JSON and schema."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import idx_bytes
from pydantic import BaseModel

from dmconf.data import File, Folder, Generic
from dmconf.data.csv import CSV
from dmconf.data.image import ImageClassification, LabelledImages
from dmconf.data.ml import Supervised
from dmconf.data.registry import SHORT_NAMES, build, resolve_type, type_name
from dmconf.data.tensor import IDX
from dmconf.errors import DataFormatError, DataTypeError, DefinitionError, NotPrepared


@pytest.mark.parametrize("dtype", ["u1", "i1", ">i2", ">i4", ">f4", ">f8"])
def test_idx_reads_every_element_type_zero_copy(tmp_path, dtype):
    expected = (np.arange(2 * 3 * 5) * 37 - 100).astype(dtype).reshape(2, 3, 5)
    path = tmp_path / "t.idx"
    path.write_bytes(idx_bytes(expected))
    array = IDX(path=path).data()
    assert isinstance(array, np.memmap), "IDX.data() must map the file, not copy it"
    assert not array.flags.writeable
    assert array.shape == (2, 3, 5)
    assert array.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(array, expected)


def test_idx_one_dimension_and_empty(tmp_path):
    (tmp_path / "labels").write_bytes(idx_bytes(np.array([3, 1, 4], dtype=np.uint8)))
    assert IDX(path=tmp_path / "labels").data().tolist() == [3, 1, 4]
    (tmp_path / "empty").write_bytes(idx_bytes(np.zeros((0, 28), dtype=np.uint8)))
    assert IDX(path=tmp_path / "empty").data().shape == (0, 28)


def test_idx_errors_name_the_file_and_the_fix(tmp_path):
    gz = tmp_path / "still.gz"
    gz.write_bytes(b"\x1f\x8b\x08\x00rest")
    with pytest.raises(DataFormatError, match="not an IDX file") as info:
        IDX(path=gz).data()
    assert str(gz) in str(info.value) and "gunzip" in str(info.value)
    short = tmp_path / "short"
    short.write_bytes(idx_bytes(np.zeros((4, 4), dtype=np.uint8))[:-3])
    with pytest.raises(DataFormatError, match="truncated or corrupt"):
        IDX(path=short).data()
    with pytest.raises(NotPrepared, match="prepare the dataset"):
        IDX(path=tmp_path / "missing").data()


def test_csv_reads_with_numpy(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a;b\n1;2.5\n3;4\n")
    table = CSV(path=path, delimiter=";", header=1)
    np.testing.assert_array_equal(table.data(), [[1, 2.5], [3, 4]])
    assert table.columns() == ["a", "b"]
    path.write_text("a;b\n1;oops\n")
    with pytest.raises(DataFormatError, match="cannot read as float64 CSV"):
        table.data()


def test_short_names_and_dotted_paths_resolve():
    assert resolve_type("idx") is IDX
    assert resolve_type("image-classification") is ImageClassification
    assert resolve_type("dmconf.data.csv.CSV") is CSV
    assert resolve_type("dmconf.data.csv:CSV") is CSV
    assert resolve_type("pydantic.BaseModel") is BaseModel
    for name in ("idx", "file", "folder", "csv", "supervised", "image-classification",
                 "labelled-images"):
        assert name in SHORT_NAMES
        assert type_name(resolve_type(name)) == name


@pytest.mark.parametrize(
    ("name", "says"),
    [("imagez", "unknown type 'imagez'"), ("nopkg.Thing", "cannot be imported"),
     ("json.dumps", "not a pydantic model")],
)
def test_bad_type_names(name, says):
    with pytest.raises(DataTypeError, match=says):
        resolve_type(name)


def test_build_nested_types_and_absolute_paths(tmp_path):
    data = {
        "train": {"images": {"type": "idx", "path": "train_images"},
                  "labels": {"type": "idx", "path": "sub/train_labels"}},
    }
    obj = build(data, ImageClassification, tmp_path, id="x.y")
    assert isinstance(obj, ImageClassification) and obj.id == "x.y"
    assert isinstance(obj.train, LabelledImages)
    assert isinstance(obj.train.images, IDX)
    assert obj.train.images.path == tmp_path / "train_images"
    assert obj.train.labels.path == tmp_path / "sub" / "train_labels"
    assert obj.test is None
    dumped = json.loads(obj.model_dump_json(exclude_none=True))
    assert dumped == {
        "id": "x.y",
        "train": {"images": {"path": str(tmp_path / "train_images")},
                  "labels": {"path": str(tmp_path / "sub" / "train_labels")}},
    }


def test_nested_type_must_fit_its_field(tmp_path):
    with pytest.raises(DataTypeError, match=r"data\.train\.type: 'idx' \(IDX\) does not fit"):
        build({"train": {"type": "idx", "path": "x"}}, ImageClassification, tmp_path)


def test_an_abstract_field_needs_a_type(tmp_path):
    with pytest.raises(DataTypeError, match=r"data\.train\.images: needs a `type:`"):
        build({"train": {"images": {"path": "x"}, "labels": {"type": "idx", "path": "y"}}},
              ImageClassification, tmp_path)


def test_supervised_accepts_any_typed_part(tmp_path):
    obj = build({"train": {"type": "csv", "path": "t.csv"}, "test": {"type": "folder",
                 "path": "test"}}, Supervised, tmp_path)
    assert isinstance(obj.train, CSV) and isinstance(obj.test, Folder)


@pytest.mark.parametrize("path", ["../outside", "a/../../outside", "/etc/passwd"])
def test_paths_cannot_leave_the_dataset_folder(tmp_path, path):
    with pytest.raises(DefinitionError, match=r"relative|leaves"):
        build({"path": path}, File, tmp_path)


def test_missing_and_unknown_fields_are_named(tmp_path):
    with pytest.raises(DataTypeError, match=r"field path: required but missing"):
        build({}, File, tmp_path)
    with pytest.raises(DataTypeError, match=r"field colour: unknown field"):
        build({"path": "a", "colour": "red"}, File, tmp_path)
    generic = build({"anything": 1, "path": "x"}, Generic, tmp_path)
    assert generic.model_extra == {"anything": 1, "path": "x"}


def test_any_pydantic_model_can_be_a_type(tmp_path):
    class Corpus(BaseModel):
        documents: Path
        language: str = "en"

    obj = build({"documents": "docs.jsonl"}, Corpus, tmp_path)
    assert obj.documents == tmp_path / "docs.jsonl"  # type: ignore[attr-defined]


def test_json_schema_of_every_short_name():
    for name in SHORT_NAMES:
        schema = resolve_type(name).model_json_schema()
        assert schema["type"] == "object"
    assert "path" in resolve_type("idx").model_json_schema()["properties"]
