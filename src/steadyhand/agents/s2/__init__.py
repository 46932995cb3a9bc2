"""Agent S2 (agent ``s2``): Proactive Hierarchical Planning, reflection, Mixture-of-Grounding, memory.

Importing this package registers :class:`S2Agent` in
:data:`steadyhand.core.registry.agents`; the ``steadyhand.agents`` entry point ``s2``
points here too. Modules: :mod:`.action_api` (the action API, defined once),
:mod:`.state`, :mod:`.nodes`, :mod:`.graph`, :mod:`.grounding` (the router seam),
:mod:`.parsing`, :mod:`.prompts` and :mod:`.scripts` (scripted runs from S2 oracles).
"""

from steadyhand.agents.s2.action_api import S2_API, CallParseError, S2Call, parse_call, render_api
from steadyhand.agents.s2.agent import S2Agent, outcome, parse_grounding, remember
from steadyhand.agents.s2.graph import build_graph, recursion_limit, route
from steadyhand.agents.s2.grounding import Grounder, build_grounder
from steadyhand.agents.s2.state import Plan, S2State, Settings, Subgoal

__all__ = ["S2_API", "CallParseError", "Grounder", "Plan", "S2Agent", "S2Call",
           "S2State", "Settings", "Subgoal", "build_graph", "build_grounder", "outcome", "parse_call",
           "parse_grounding", "recursion_limit", "remember", "render_api", "route"]
