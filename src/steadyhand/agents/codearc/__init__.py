"""The program-synthesis agent (agent ``codearc``) for the CodeARC arena.

Importing this package registers :class:`CodeARCAgent` in
:data:`steadyhand.core.registry.agents`; the ``steadyhand.agents`` entry point
``codearc`` points here too.
"""

from steadyhand.agents.codearc.agent import CodeARCAgent, outcome
from steadyhand.agents.codearc.graph import CodeARCState, Settings, build_graph
from steadyhand.agents.codearc.oracle import oracle_script, write_oracle_script
from steadyhand.agents.codearc.parsing import Reply, parse_reply, parse_tool_reply

__all__ = ["CodeARCAgent", "CodeARCState", "Reply", "Settings", "build_graph", "oracle_script", "outcome",
           "parse_reply", "parse_tool_reply", "write_oracle_script"]
