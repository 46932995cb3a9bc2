"""The relation DAG: which source error led SEA to which paragraph, and source pruning.

Nodes are tested paragraphs with their accuracy (1 - error rate); an edge runs from
the source error whose neighbourhood a paragraph was retrieved from to that
paragraph. Edges always point from an earlier step to a later one, so the graph is
acyclic by construction. A node's *cumulative accuracy* is the mean accuracy of its
descendants, as in the paper and its reference code (the node's own accuracy is not
part of it: a source is judged by what it led to). A source whose neighbourhood keeps
being answered correctly (cumulative accuracy above gamma) is pruned and no longer
expanded; a source that has led to nothing yet has no cumulative accuracy and is kept.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

__all__ = ["RelationDAG"]


class RelationDAG:
    """Tested paragraphs and the source -> found edges between them."""

    def __init__(self) -> None:
        self.graph: nx.DiGraph = nx.DiGraph()

    def __len__(self) -> int:
        return int(self.graph.number_of_nodes())

    def add(self, paragraph_id: str, accuracy: float, parent: str | None = None) -> None:
        """Add a tested paragraph, with an edge from ``parent`` when a source found it."""
        self.graph.add_node(paragraph_id, accuracy=float(accuracy))
        if parent is not None and parent in self.graph and parent != paragraph_id:
            self.graph.add_edge(parent, paragraph_id)

    def cumulative_accuracy(self, paragraph_id: str) -> float | None:
        """Mean accuracy over the node's descendants; ``None`` when it has none."""
        nodes = nx.descendants(self.graph, paragraph_id)
        if not nodes:
            return None
        return sum(self.graph.nodes[n]["accuracy"] for n in nodes) / len(nodes)

    def prune(self, sources: Iterable[str], gamma: float) -> list[str]:
        """The sources whose cumulative accuracy exceeds ``gamma`` (to stop expanding them)."""
        out = []
        for source in sources:
            accuracy = self.cumulative_accuracy(source) if source in self.graph else None
            if accuracy is not None and accuracy > gamma:
                out.append(source)
        return out

    def children(self, paragraph_id: str) -> list[str]:
        return sorted(self.graph.successors(paragraph_id))

    def roots(self) -> list[str]:
        """Nodes no source led to (found by random sampling)."""
        return sorted(n for n in self.graph if self.graph.in_degree(n) == 0)
