"""OSWorld metrics implemented by steadyhand; importing this package registers them.

See :mod:`.general` (literal values, text files, lists) and :mod:`.table`
(spreadsheets and CSV). Look metrics up through
:data:`steadyhand.environments.desktop.osworld.components.metrics`.
"""

from steadyhand.environments.desktop.osworld.metrics import general, table
from steadyhand.environments.desktop.osworld.metrics.table import match_value_to_rule

__all__ = ["general", "match_value_to_rule", "table"]
