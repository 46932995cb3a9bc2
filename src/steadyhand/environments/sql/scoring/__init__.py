"""Scoring of predicted SQL: execution accuracy (BIRD, Spider test-suite), partial rewards, summaries."""

from steadyhand.environments.sql.scoring.compare import bird_match, gold_is_ordered, spider_match
from steadyhand.environments.sql.scoring.execution import METRICS, ExecutionScorer, ReadOnlyPool, Verdict
from steadyhand.environments.sql.scoring.partial import (
    PartialRewardConfig,
    SQLJudge,
    combine,
    ngram_similarity,
    partial_terms,
    schema_linking,
)
from steadyhand.environments.sql.scoring.summary import summarize

__all__ = [
    "METRICS",
    "ExecutionScorer",
    "PartialRewardConfig",
    "ReadOnlyPool",
    "SQLJudge",
    "Verdict",
    "bird_match",
    "combine",
    "gold_is_ordered",
    "ngram_similarity",
    "partial_terms",
    "schema_linking",
    "spider_match",
    "summarize",
]
