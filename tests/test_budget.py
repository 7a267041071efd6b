"""The limits on what printed text can make the daemon do, as pure decisions (a clock passed in)."""

from __future__ import annotations

import logging

import pytest

from iterm2_autolaunch.budget import Budget, forward_refusal
from iterm2_autolaunch.config import Limits

LIMITS = Limits(forwards_per_session=2, forwards_total=3)


@pytest.mark.parametrize(
    ("live", "key", "refused"),
    [
        pytest.param([], ("s1", "jupyter", 8888, "a"), None, id="first"),
        pytest.param([("s1", "jupyter", 8888, "a"), ("s1", "jupyter", 8889, "b")], ("s1", "jupyter", 8890, "c"),
                     "limits.forwards_per_session", id="session-full"),
        pytest.param([("s1", "jupyter", 8888, "a"), ("s1", "jupyter", 8889, "b")], ("s1", "jupyter", 8889, "new"),
                     None, id="restart-replaces"),
        pytest.param([("s1", "jupyter", 8888, "a"), ("s1", "jupyter", 8889, "b")], ("s2", "jupyter", 8888, "c"),
                     None, id="other-session"),
        pytest.param([("s1", "j", 1, "a"), ("s2", "j", 2, "b"), ("s3", "j", 3, "c")], ("s4", "j", 4, "d"),
                     "limits.forwards_total", id="total-full"),
    ],
)
def test_forward_refusal(live: list[tuple[str, str, int, str]], key: tuple[str, str, int, str],
                         refused: str | None) -> None:
    reason = forward_refusal(key, live, LIMITS)
    assert (reason is None) if refused is None else (reason is not None and refused in reason)


def test_budget_allows_so_many_a_minute_and_logs_the_refusals_once(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    budget = Budget("browser opens", 3, logging.getLogger("test"), clock=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        assert [budget.allow() for _ in range(5)] == [True, True, True, False, False]
        assert len(caplog.records) == 1  # one line for the first refusal, not one per refusal
        now[0] = 59.9
        assert not budget.allow()
        now[0] = 60.0  # the first three are a minute old: room again, and the refused ones are summed up
        assert budget.allow()
        assert "3 more refused" in caplog.records[-1].getMessage()
