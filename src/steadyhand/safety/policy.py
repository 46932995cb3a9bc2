"""Action policy: allow, deny or confirm each action by rules from a YAML file.

A policy file::

    default: allow              # what happens when no rule matches
    rules:
      - effect: deny            # allow | deny | confirm
        reason: no shell wipes
        kinds: [desktop.typing, desktop.pyautogui]   # action kinds (fnmatch patterns)
        text: 'rm\\s+-rf'        # regex over what the action types / runs / queries
      - effect: confirm
        target: '(?i)\\b(buy|purchase)\\b'   # regex over what the action points at
        applications: [chromium]            # fnmatch over the application
        domains: ['*.example.com']          # fnmatch over the URL's host
    irreversible: true          # the built-in irreversible-action rules (confirm)
    secrets: true               # the built-in secret patterns (deny typing them)

Rules are tried in order; the first that matches decides. Every field of a rule is
optional and all given fields must match. Built-in rules come after the file's.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from steadyhand.core.actions import ActionBase
from steadyhand.core.errors import ConfigurationError
from steadyhand.safety.verdict import GuardVerdict

#: Fields of an action that carry what it types, runs or queries.
TEXT_FIELDS = ("text", "code", "query", "key", "keys", "calls")
#: Fields of an action that say what it points at.
TARGET_FIELDS = ("name", "role", "selector", "target", "label", "url")

IRREVERSIBLE_TARGET = (r"(?i)\b(delete|remove|erase|destroy|send|submit order|place order|purchase|buy|pay|checkout|"
                       r"transfer|confirm payment|unsubscribe|empty trash|format)\b")
IRREVERSIBLE_TEXT = (r"(?i)(\brm\s+-[a-z]*[rf][a-z]*\b|\bdrop\s+(table|database|schema)\b|\bdelete\s+from\b|"
                     r"\btruncate\s+table\b|\bmkfs\b|\bdd\s+if=|\bshred\b|\bgit\s+push\s+(-f|--force)\b)")
SECRET_TEXT = (r"(?i)(\b(sk|pk|rk)-[a-z0-9_-]{16,}|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{20,}|"
               r"\bxox[abpr]-[A-Za-z0-9-]{10,}|-----BEGIN [A-Z ]*PRIVATE KEY-----|"
               r"\b(password|passwd|pwd|secret|token|api[_-]?key)\s*[:=]\s*\S+)")


class PolicyRule(BaseModel):
    """One rule; all given conditions must hold for it to decide."""

    model_config = ConfigDict(extra="forbid")

    effect: Literal["allow", "deny", "confirm"]
    reason: str = ""
    kinds: list[str] = Field(default_factory=list, description="fnmatch patterns over the action kind.")
    target: str | None = Field(None, description="Regex over what the action points at.")
    text: str | None = Field(None, description="Regex over what the action types, runs or queries.")
    applications: list[str] = Field(default_factory=list, description="fnmatch patterns over the application.")
    domains: list[str] = Field(default_factory=list, description="fnmatch patterns over the URL's host.")

    @field_validator("target", "text")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"bad regex {value!r}: {exc}") from exc
        return value

    def matches(self, facts: ActionFacts) -> bool:
        """True when every condition of the rule holds for ``facts``."""
        if self.kinds and not any(fnmatch.fnmatchcase(facts.kind, k) for k in self.kinds):
            return False
        if self.target is not None and not re.search(self.target, facts.target):
            return False
        if self.text is not None and not re.search(self.text, facts.text):
            return False
        if self.applications and not any(fnmatch.fnmatch(facts.application.lower(), a.lower())
                                         for a in self.applications):
            return False
        return not (self.domains and not any(fnmatch.fnmatch(facts.domain.lower(), d.lower()) for d in self.domains))


class ActionFacts(BaseModel):
    """What the policy knows about one action."""

    kind: str
    target: str = ""
    text: str = ""
    application: str = ""
    domain: str = ""

    @classmethod
    def of(cls, action: ActionBase, *, target: str = "", application: str = "", url: str = "") -> ActionFacts:
        """Facts from the action's fields plus what the agent knows (the element it meant, the app, the URL).

        ``target`` (what the agent meant to act on) replaces the action's own target fields when given.
        """
        data = action.model_dump()
        texts = [_flat(data[f]) for f in TEXT_FIELDS if data.get(f) is not None]
        targets = [_flat(data[f]) for f in TARGET_FIELDS if data.get(f) is not None]
        own_url = str(data.get("url") or "")
        host = urlparse(own_url or url).hostname or ""
        return cls(kind=action.kind, target=target or " ".join(targets), text="\n".join(texts),
                   application=application, domain=host)


def _flat(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


class ActionPolicy(BaseModel):
    """The action-policy guard: rules, a default, and the built-in irreversible and secret rules."""

    model_config = ConfigDict(extra="forbid")

    default: Literal["allow", "deny", "confirm"] = "allow"
    rules: list[PolicyRule] = Field(default_factory=list)
    irreversible: bool = True
    secrets: bool = True

    name: str = "policy"

    @classmethod
    def load(cls, source: str | Path | dict[str, Any] | None) -> ActionPolicy:
        """A policy from a YAML file path, YAML text, a mapping, or None (the built-in rules only).

        Raises:
            ConfigurationError: the file is missing, not YAML, or has unknown or invalid fields.
        """
        if source is None:
            return cls()
        data: Any = source
        if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and ":" not in source):
            path = Path(source)
            if not path.is_file():
                raise ConfigurationError(f"policy file {str(path)!r} does not exist")
            source = path.read_text(encoding="utf-8")
        if isinstance(source, str):
            try:
                data = yaml.safe_load(source) or {}
            except yaml.YAMLError as exc:
                raise ConfigurationError(f"policy is not valid YAML: {exc}") from exc
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigurationError(f"invalid policy: {exc}") from exc

    def all_rules(self) -> list[PolicyRule]:
        """The file's rules, then the built-in ones that are switched on."""
        built_in = []
        if self.secrets:
            built_in.append(PolicyRule(effect="deny", reason="the action types a secret (key, token or password)",
                                       text=SECRET_TEXT))
        if self.irreversible:
            built_in += [
                PolicyRule(effect="confirm", reason="irreversible command", text=IRREVERSIBLE_TEXT),
                PolicyRule(effect="confirm", reason="irreversible action (delete, send, purchase...)",
                           target=IRREVERSIBLE_TARGET, kinds=["*click*", "*tap*", "*press*", "*submit*"]),
            ]
        return [*self.rules, *built_in]

    def check(self, facts: ActionFacts) -> GuardVerdict:
        """The first matching rule's decision, or the default."""
        for i, rule in enumerate(self.all_rules()):
            if rule.matches(facts):
                return GuardVerdict(guard=self.name, verdict=rule.effect, reason=rule.reason or f"rule {i}",
                                    details={"rule": i, "action": facts.model_dump()})
        return GuardVerdict(guard=self.name, verdict=self.default, reason="no rule matched",
                            details={"action": facts.model_dump()})
