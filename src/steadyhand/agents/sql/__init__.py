"""The text-to-SQL agent (agent ``sql``).

Importing this package registers :class:`SQLAgent` in
:data:`steadyhand.core.registry.agents`; the ``steadyhand.agents`` entry point
``sql`` points here too.
"""

from steadyhand.agents.sql.agent import SQLAgent, outcome
from steadyhand.agents.sql.graph import SQLState, build_graph
from steadyhand.agents.sql.oracle import oracle_script, write_oracle_script
from steadyhand.agents.sql.parsing import Reply, parse_reply

__all__ = ["Reply", "SQLAgent", "SQLState", "build_graph", "oracle_script", "outcome", "parse_reply",
           "write_oracle_script"]
