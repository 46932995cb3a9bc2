"""The S2 graph's nodes, one function per decision; each takes the state and the :class:`Runtime`."""

from steadyhand.agents.s2.nodes.act import act, finish, ground
from steadyhand.agents.s2.nodes.guard import guard
from steadyhand.agents.s2.nodes.manager import after_subgoal, can_replan, check_done, manager, recall
from steadyhand.agents.s2.nodes.runtime import Runtime
from steadyhand.agents.s2.nodes.worker import loop_warning, reflect, start_subgoal, worker

__all__ = ["Runtime", "act", "after_subgoal", "can_replan", "check_done", "finish", "ground", "guard", "loop_warning",
           "manager", "recall", "reflect", "start_subgoal", "worker"]
