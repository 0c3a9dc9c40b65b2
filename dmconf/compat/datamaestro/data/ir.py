"""datamaestro-text's and datamaestro-ir's TREC data types, as dmconf's own IR types.

``dmconf port`` ends the plugins' ``data/ir/trec.py`` (datamaestro-text) and ``data/trec.py``
(datamaestro-ir) with ``TrecTopics = shared(TrecTopics)`` (and the same for the judgements and
runs): from then on the name is a class deriving from dmconf's type first
(:class:`~dmconf.data.ir.Queries`, :class:`~dmconf.data.ir.Qrels`, :class:`~dmconf.data.ir.Run`)
and from the plugin's class second. A ported dataset's topics, judgements and runs therefore
are :mod:`dmconf.data.ir` objects with the catalogue's methods (``iter()``, ``lookup()``), are
still instances of the plugin's classes (its other types accept them), keep the plugin's other
methods, and are built the experimaestro way (``.C(path=...)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field

from dmconf.data import ir

__all__ = ["SHARED", "Topics", "shared"]


class Topics(ir.Queries):
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


#: the plugin modules (as ``dmconf port`` names them, below the package) -> the class names
#: that become dmconf's types, and the dmconf type of each
BASES: dict[str, type[ir.File]] = {
    "TrecTopics": Topics, "TrecAdhocAssessments": ir.Qrels, "TrecAdhocRun": ir.Run,
}
SHARED = {"datamaestro_text": "data/ir/trec.py", "datamaestro_ir": "data/trec.py"}


def shared(plugin_class: type) -> type:
    """The plugin's class as a dmconf type: dmconf's first, the plugin's second, same name and
    module (so a definition names it as before)."""
    base = BASES[plugin_class.__name__]
    return type(plugin_class.__name__, (base, plugin_class), {
        "__module__": plugin_class.__module__, "__qualname__": plugin_class.__qualname__,
        "__doc__": plugin_class.__doc__ or base.__doc__,
    })
