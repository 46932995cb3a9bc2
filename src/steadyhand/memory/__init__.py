"""Memory: LangGraph checkpointers and the knowledge base of past experience.

* :func:`open_checkpointer` - checkpoints beside the result store;
* :class:`KnowledgeBase` - narrative (task) and episodic (subgoal) experience in the SQL
  store, retrieved by embedding similarity (:mod:`.knowledge`, embedders in :mod:`.embeddings`).
"""

from steadyhand.memory.checkpoints import open_checkpointer
from steadyhand.memory.embeddings import load_embedder
from steadyhand.memory.knowledge import Experience, KnowledgeBase

__all__ = ["Experience", "KnowledgeBase", "load_embedder", "open_checkpointer"]
