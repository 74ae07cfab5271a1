"""Generated ids: UUID version 7, unique, and in the order they were made."""

from __future__ import annotations

import uuid

from idstore.db.ids import new_id


def test_ids_are_uuid7_and_sort_in_the_order_they_were_made() -> None:
    ids = [new_id() for _ in range(5000)]  # many share a millisecond

    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    parsed = uuid.UUID(ids[0])
    assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
