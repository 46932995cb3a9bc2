"""Memory: LangGraph checkpointers (and, later, the knowledge base of past experience)."""

from steadyhand.memory.checkpoints import open_checkpointer

__all__ = ["open_checkpointer"]
