"""Text-to-SQL: the SQL environment, Spider/BIRD loaders, scorers and the built-in ``sql-mini`` suite.

Importing this package registers the ``sql`` environment and the ``sql-mini`` suite::

    from steadyhand.environments.sql import SQLEnvironment, load_sql_mini
    env = SQLEnvironment(row_limit=20)
    task = load_sql_mini()[0]
    first = env.reset(task)
"""

from steadyhand.environments.sql.environment import SQLEnvironment, open_episode_database
from steadyhand.environments.sql.hardness import spider_hardness
from steadyhand.environments.sql.loaders import load_bird, load_spider
from steadyhand.environments.sql.results import QueryResult
from steadyhand.environments.sql.scoring import (
    ExecutionScorer,
    PartialRewardConfig,
    SQLJudge,
    Verdict,
    summarize,
)
from steadyhand.environments.sql.suites import SQL_MINI_PATH, bird_suite, load_sql_mini, spider_suite, sql_mini

__all__ = [
    "SQL_MINI_PATH",
    "ExecutionScorer",
    "PartialRewardConfig",
    "QueryResult",
    "SQLEnvironment",
    "SQLJudge",
    "Verdict",
    "bird_suite",
    "load_bird",
    "load_spider",
    "load_sql_mini",
    "open_episode_database",
    "spider_hardness",
    "spider_suite",
    "sql_mini",
    "summarize",
]
