"""Agents: LangGraph graphs that act in an environment for one episode.

The contract every agent implements is :class:`~steadyhand.agents.base.Agent`;
live handles reach it through :class:`~steadyhand.agents.base.EpisodeContext`.
"""

from steadyhand.agents.base import Agent, AgentOutcome, EpisodeContext, StepRecord

__all__ = ["Agent", "AgentOutcome", "EpisodeContext", "StepRecord"]
