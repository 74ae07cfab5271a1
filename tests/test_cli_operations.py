"""The operators' commands word their counts for one as for many."""

from __future__ import annotations

from idstore.cli_operations import chain_summary
from idstore.services.audit_verification import Break, ChainReport


def test_verify_audit_counts_one_user_in_the_singular() -> None:
    report = ChainReport(records=3, users=1, unchained=0)

    assert chain_summary(report) == (
        "idstore: 3 records of 1 user checked, 0 written before chaining; 0 broken chains"
    )


def test_verify_audit_counts_one_record_and_one_break_in_the_singular() -> None:
    broken = Break(user_id="u1", record_id="r1", problem="altered")
    report = ChainReport(records=1, users=2, unchained=1, breaks=[broken])

    assert chain_summary(report) == (
        "idstore: 1 record of 2 users checked, 1 written before chaining; 1 broken chain"
    )
