"""Safeguards for computer-use agents: guards whose verdicts are recorded on each step.

* observation screening (:mod:`.screening`) and spotlighting (:mod:`.spotlight`);
* action policy from YAML, with confirmation of irreversible actions (:mod:`.policy`);
* privacy: redaction of stored steps and blurring of screenshots (:mod:`.privacy`);
* reliability: loops, budgets, screen-change checks (:mod:`.reliability`).

:class:`GuardSet` combines them for an agent (the S2 graph's ``guard`` node uses it).
"""

from steadyhand.safety.guards import GUARD_NAMES, GuardSet, follows_injection, parse_guards
from steadyhand.safety.policy import ActionFacts, ActionPolicy, PolicyRule
from steadyhand.safety.privacy import blur_screenshot, luhn_ok, redact_step, redact_text, redactor
from steadyhand.safety.reliability import Budget, LoopDetector, screen_changed
from steadyhand.safety.screening import RULES, InjectionScreen, scan
from steadyhand.safety.spotlight import datamark, spotlight
from steadyhand.safety.verdict import Decision, GuardVerdict, strictest

__all__ = ["GUARD_NAMES", "RULES", "ActionFacts", "ActionPolicy", "Budget", "Decision", "GuardSet", "GuardVerdict",
           "InjectionScreen", "LoopDetector", "PolicyRule", "blur_screenshot", "datamark", "follows_injection",
           "luhn_ok", "parse_guards", "redact_step", "redact_text", "redactor", "scan", "screen_changed",
           "spotlight", "strictest"]
