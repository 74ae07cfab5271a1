"""Generated ids: UUID version 7, unique, and in the order they were made."""

from __future__ import annotations

import uuid

from idstore.db.ids import hyphenated, is_id, new_id


def test_ids_are_uuid7_and_sort_in_the_order_they_were_made() -> None:
    ids = [new_id() for _ in range(5000)]  # many share a millisecond

    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    parsed = uuid.UUID(ids[0])
    assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)


def test_hyphenated_writes_what_uuid_writes() -> None:
    for value in (0, 1, 2**128 - 1, 0x0123456789ABCDEF0123456789ABCDEF, uuid.uuid4().int):
        assert hyphenated(value) == str(uuid.UUID(int=value))


def test_every_id_reads_back_as_the_uuid_it_spells() -> None:
    for made in (new_id() for _ in range(200)):
        assert str(uuid.UUID(made)) == made


def test_an_id_is_a_lowercase_hyphenated_uuid() -> None:
    assert is_id(new_id())
    assert is_id(str(uuid.uuid4()))
    for other in (
        "ext",
        "issue",
        "",
        new_id().upper(),
        new_id()[:-1],
        new_id() + "0",
        "{" + new_id() + "}",
    ):
        assert not is_id(other), other
