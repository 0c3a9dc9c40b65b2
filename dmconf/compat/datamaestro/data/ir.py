"""datamaestro-text's and datamaestro-ir's TREC data types, as dmconf's own IR types.

``dmconf port`` makes a ported definition's ``from datamaestro_text.data.ir.trec import
TrecTopics`` (and the same names of ``datamaestro_ir.data.trec``) resolve here, so a ported
dataset's topics, judgements and runs are :mod:`dmconf.data.ir` objects (:class:`~dmconf.data.
ir.Queries`, :class:`~dmconf.data.ir.Qrels`, :class:`~dmconf.data.ir.Run`), with the same methods
as the catalogue's (``iter()``, ``lookup()``), built the experimaestro way (``.C(path=...)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field

from dmconf.compat.experimaestro import Config
from dmconf.data import ir

__all__ = ["SHARED", "TrecAdhocAssessments", "TrecAdhocRun", "TrecTopics"]


class TrecTopics(Config, ir.Queries):
    """TREC topics (``<top><num>...``); each query's ``text`` joins the ``parts`` datamaestro
    reads (``title``, ``desc``, ``narr``)."""

    format: Literal["jsonl", "tsv", "trec"] = "trec"
    parts: list[str] = Field(default_factory=lambda: ["title"],
                             description="the topic fields forming a query's text")

    def iter(self) -> Iterator[dict[str, Any]]:
        names = {"desc": "description", "narr": "narrative"}
        for topic in super().iter():
            if self.format == "trec":
                topic["text"] = " ".join(
                    topic.get(names.get(part, part), "") for part in self.parts).strip()
            yield topic


class TrecAdhocAssessments(Config, ir.Qrels):
    """TREC relevance judgements (``qid iteration docid relevance``)."""

    def trecpath(self) -> Any:
        return self.path


class TrecAdhocRun(Config, ir.Run):
    """A TREC run (``qid Q0 docid rank score tag``)."""


# The modules of datamaestro's plugins whose names these replace in a ported definition.
SHARED = {
    module: ("TrecTopics", "TrecAdhocAssessments", "TrecAdhocRun")
    for module in ("datamaestro_text.data.ir.trec", "datamaestro_ir.data.trec")
}
