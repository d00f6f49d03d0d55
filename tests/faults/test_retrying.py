"""Lost races are retried for a time budget, not only a count: a slow writer among quick ones gets through."""

from __future__ import annotations

import time

import pytest
from pyiceberg.exceptions import CommitFailedException

from ratatouille.errors import Conflict
from ratatouille.tables import commit


def losing(times: int) -> tuple[list[int], object]:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise CommitFailedException("another writer committed first")
        return "committed"

    return calls, attempt


def test_a_write_losing_more_races_than_the_attempt_count_still_commits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    calls, attempt = losing(commit.MAX_ATTEMPTS + 5)
    assert commit.retrying(attempt, "commit to t") == "committed"  # type: ignore[arg-type]
    assert len(calls) == commit.MAX_ATTEMPTS + 6


def test_retrying_gives_up_once_both_the_count_and_the_budget_are_spent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    calls, attempt = losing(1000)
    with pytest.raises(
        Conflict, match=r"other writers kept committing first \(3 attempts\); nothing was changed"
    ):
        commit.retrying(attempt, "commit to t", attempts=3, budget=0)  # type: ignore[arg-type]
    assert len(calls) == 3
