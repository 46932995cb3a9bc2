"""What an environment shows an agent, and what one step returns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Observation(BaseModel):
    """One observation. Every field is optional; configuration decides which are filled.

    Binary screenshots travel as PNG bytes; tabular results as column names plus rows
    (already truncated by the environment, with ``truncated`` saying so).
    """

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, description="Free text: a task prompt, a page's text, a message.")
    screenshot: bytes | None = Field(None, description="PNG bytes of the screen.")
    accessibility_tree: str | None = None
    terminal: str | None = None
    columns: list[str] | None = None
    rows: list[list[Any]] | None = None
    row_count: int | None = Field(None, description="Rows the query produced, before truncation.")
    truncated: bool = False
    error: str | None = Field(None, description="The error the last action caused, if any.")
    info: dict[str, Any] = Field(default_factory=dict)

    def summary(self, *, max_chars: int = 2000) -> dict[str, Any]:
        """A JSON-safe digest for storage: text fields clipped, screenshots as sizes."""
        data: dict[str, Any] = {}
        for name in ("text", "accessibility_tree", "terminal", "error"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value if len(value) <= max_chars else value[:max_chars] + "…"
        if self.screenshot is not None:
            data["screenshot_bytes"] = len(self.screenshot)
        if self.columns is not None:
            data["columns"] = self.columns
        if self.rows is not None:
            data["rows"] = [[_json_safe(v) for v in row] for row in self.rows[:20]]
            data["row_count"] = self.row_count
            data["truncated"] = self.truncated
        if self.info:
            data["info"] = {k: _json_safe(v) for k, v in self.info.items()}
        return data


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return str(value)


class StepResult(BaseModel):
    """The outcome of :meth:`Environment.step`, as in Gymnasium.

    ``terminated`` means the task reached an end state (submitted, done, failed);
    ``truncated`` means a limit cut the episode short. They are never both true.
    """

    model_config = ConfigDict(extra="forbid")

    observation: Observation
    reward: float = 0.0
    terminated: bool = False
    truncated: bool = False
    info: dict[str, Any] = Field(default_factory=dict)
