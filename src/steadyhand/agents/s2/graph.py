"""Agent S2's LangGraph graph: nodes, one pure router and the wiring.

::

    recall -> manager -> start_subgoal -> worker -> ground -> guard -> act -> reflect -> worker ...
                 ^  |          ^           |  \\                                  |
                 |  +-> check_done -> finish  +-> (done()/fail(): subgoal ended) -+-> manager (replan)
                 +------------ (check said NO) ---+

Every node writes ``phase``; :func:`route` maps it to the next node and applies the
step budget (``max_steps`` worker turns, as OSWorld counts steps). Nodes receive the
state and the episode's :class:`~steadyhand.agents.s2.nodes.Runtime`, which holds the
live handles; the state stays plain data and is checkpointed after every node.
"""

from __future__ import annotations

from collections.abc import Hashable
from functools import partial
from typing import Any

from langgraph.graph import END, START, StateGraph

from steadyhand.agents.s2 import nodes
from steadyhand.agents.s2.nodes import Runtime
from steadyhand.agents.s2.state import S2State, Settings

_PHASE_NODE = {"plan": "manager", "next": "start_subgoal", "ground": "ground", "act": "guard", "execute": "act",
               "check": "check_done", "finish": "finish"}
#: Phases that need a worker turn (and so stop when the step budget is spent).
_TURN_PHASES = frozenset({"plan", "next", "work", "ground"})


def route(state: S2State, settings: Settings) -> str:
    """The node after any node, from the state alone (pure).

    ``end`` ends the episode; with ``max_steps`` worker turns spent only the completion
    check and the final action may still run; ``work`` goes through ``reflect`` when the
    subgoal already has turns (and reflection is on, or a loop was detected).
    """
    phase = state.get("phase", "plan")
    if phase == "end":
        return END
    if phase in _TURN_PHASES and state.get("turns", 0) >= settings.max_steps:
        return END
    if phase == "work":
        if state.get("history") and (settings.reflection or nodes.loop_warning(state)):
            return "reflect"
        return "worker"
    return _PHASE_NODE[phase]


def build_graph(rt: Runtime) -> StateGraph:
    """The uncompiled graph for one episode; every node is bound to ``rt``."""
    graph = StateGraph(S2State)
    bound: dict[str, Any] = {  # node name -> function of the state, bound to rt
        "recall": partial(nodes.recall, rt=rt),
        "manager": partial(nodes.manager, rt=rt),
        "start_subgoal": partial(nodes.start_subgoal, rt=rt),
        "reflect": partial(nodes.reflect, rt=rt),
        "worker": partial(nodes.worker, rt=rt),
        "ground": partial(nodes.ground, rt=rt),
        "guard": partial(nodes.guard, rt=rt),
        "act": partial(nodes.act, rt=rt),
        "check_done": partial(nodes.check_done, rt=rt),
        "finish": partial(nodes.finish, rt=rt),
    }
    for name, fn in bound.items():
        graph.add_node(name, fn)
    graph.add_edge(START, "recall")
    targets: dict[Hashable, str] = {name: name for name in bound if name != "recall"}
    targets[END] = END
    router = partial(route, settings=rt.settings)
    for name in bound:
        if name == "reflect":
            graph.add_edge("reflect", "worker")
        elif name == "finish":
            graph.add_edge("finish", END)
        else:
            graph.add_conditional_edges(name, router, targets)
    return graph


def recursion_limit(settings: Settings) -> int:
    """Supersteps one episode can take at most, with room to spare."""
    per_turn = 5  # reflect, worker, ground, guard, act
    per_replan = settings.max_plan_retries + 2  # the manager's tries and the subgoal start
    return (20 + per_turn * (settings.max_steps + 1) + per_replan * (settings.max_replans + 2)
            + 3 * (settings.max_done_checks + 1))
