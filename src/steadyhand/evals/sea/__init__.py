"""SEA (Stochastic Error Ascent): find a model's knowledge deficiencies in a large knowledge base cheaply.

Modules: :mod:`.kb` (pages and paragraphs), :mod:`.debian` (a 60k-page knowledge
base from Debian's package records), :mod:`.embed` and :mod:`.retrieval` (vectors),
:mod:`.index` (the page index), :mod:`.questions` (cloze and model-based
generators), :mod:`.testee`, :mod:`.dag`, :mod:`.search` (SEA and the random
baseline), :mod:`.store` (tables beside the result store), :mod:`.study` (the
two-line API), :mod:`.report` and :mod:`.cli` (``steadyhand sea``), and :mod:`.structure`
(how clustered a testee's errors are, which bounds what any search can gain).

Heavy dependencies (torch, matplotlib) are imported only when used.
"""

from steadyhand.evals.sea.dag import RelationDAG
from steadyhand.evals.sea.kb import KnowledgeBase, Page, Paragraph, load_kb, write_kb
from steadyhand.evals.sea.questions import ClozeGenerator, ModelGenerator, Question, QuestionGenerator
from steadyhand.evals.sea.search import RunSummary, SearchConfig, run_search
from steadyhand.evals.sea.store import SeaStore
from steadyhand.evals.sea.study import StudyResult, StudySpec, open_context, run_study
from steadyhand.evals.sea.testee import Testee, extract_choice

__all__ = [
    "ClozeGenerator",
    "KnowledgeBase",
    "ModelGenerator",
    "Page",
    "Paragraph",
    "Question",
    "QuestionGenerator",
    "RelationDAG",
    "RunSummary",
    "SeaStore",
    "SearchConfig",
    "StudyResult",
    "StudySpec",
    "Testee",
    "extract_choice",
    "load_kb",
    "open_context",
    "run_search",
    "run_study",
    "write_kb",
]
