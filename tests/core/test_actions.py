import pytest

from steadyhand.core import (
    Done,
    ExecuteSQL,
    Fail,
    ModelOutputError,
    SubmitSQL,
    Wait,
    parse_action,
    render_action_api,
)


def test_parse_action_dispatches_on_kind() -> None:
    assert parse_action({"kind": "sql.execute", "query": "SELECT 1"}) == ExecuteSQL(query="SELECT 1")
    assert parse_action('{"kind": "sql.submit", "query": "SELECT 2"}') == SubmitSQL(query="SELECT 2")
    assert isinstance(parse_action({"kind": "done"}), Done)
    assert parse_action({"kind": "fail", "reason": "no such file"}).reason == "no such file"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"kind": "teleport"}, "teleport"),
        ({"kind": "sql.execute"}, "query"),
        ({"kind": "wait", "seconds": -1}, "seconds"),
        ({"kind": "sql.execute", "query": "x", "extra": 1}, "extra"),
        ("not json", "invalid"),
    ],
)
def test_parse_action_names_the_problem(data: object, needle: str) -> None:
    with pytest.raises(ModelOutputError, match=needle):
        parse_action(data)  # type: ignore[arg-type]


def test_api_listing_is_generated_from_definitions() -> None:
    listing = render_action_api([ExecuteSQL, SubmitSQL, Wait, Fail])
    assert "execute_sql(query: str)" in listing
    assert "wait(seconds: float = 1.0)" in listing
    assert "fail(reason: str = '')" in listing
    # the docstring and field descriptions travel into the prompt
    assert ExecuteSQL.__doc__.splitlines()[0] in listing  # type: ignore[union-attr]
    assert "query: One SQL statement." in listing


def test_actions_are_immutable() -> None:
    action = ExecuteSQL(query="SELECT 1")
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises its own ValidationError
        action.query = "DROP TABLE x"  # type: ignore[misc]


def test_default_factories_render_their_value() -> None:
    from pydantic import Field

    from steadyhand.core import ActionBase

    class Hotkeys(ActionBase):
        """Press keys together."""

        kind: str = "test.hotkeys"
        keys: list[str] = Field(default_factory=list)

    assert "hotkeys(keys: list[str] = [])" in render_action_api([Hotkeys]).replace("Hotkeys", "hotkeys")
