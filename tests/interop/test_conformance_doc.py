"""docs/interop.md's conformance table is the suite's: rendered from tests/interop/outcomes.py."""

from __future__ import annotations

from tests.interop import outcomes, test_others_read_ours, test_read_others


def test_every_check_has_a_test() -> None:
    assert test_read_others and test_others_read_ours  # imported: their checks are registered
    assert set(outcomes.CHECKS) == outcomes.REGISTERED


def test_doc_table_matches_the_suite() -> None:
    in_doc = outcomes.table_in_doc(outcomes.DOC.read_text())
    assert in_doc == outcomes.render(), (
        "docs/interop.md's conformance table differs from tests/interop/outcomes.py: "
        "run `python -m tests.interop.outcomes` to rewrite it"
    )
