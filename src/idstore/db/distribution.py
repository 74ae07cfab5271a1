"""How the schema spreads over a Citus cluster: by store, with small shared tables copied.

Every request names one store; the tables that grow with a store's users (users, their
authenticators, their audit) are distributed by `store_id`, so that all of one store's rows live
on one worker and a request's statements are routed to that worker alone. Tables that are small
and read by every store's requests (stores, policies, API keys) are reference tables: a copy on
every worker, joinable with any shard. What is neither stays on the coordinator.

Nothing here runs Citus: docs/scaling.md gives the commands, and tests/db/test_distribution.py
checks these rules against `tables.metadata`, so that a table added without thinking about
distribution fails the suite.
"""

from __future__ import annotations

from enum import Enum

DISTRIBUTION_COLUMN = "store_id"


class Placement(Enum):
    """Where a table's rows live in a Citus cluster."""

    # `create_distributed_table('<table>', 'store_id', colocate_with => 'users')`
    DISTRIBUTED = "distributed"
    # `create_reference_table('<table>')`: a full copy on every node.
    REFERENCE = "reference"
    # Left on the coordinator (`citus_add_local_table_to_metadata`): tenant-wide records, written
    # by administrators, never joined with a store's shards.
    COORDINATOR = "coordinator"


PLACEMENTS: dict[str, Placement] = {
    # Grow with a store's users; every hot statement names the store.
    "users": Placement.DISTRIBUTED,
    "store_user_counts": Placement.DISTRIBUTED,
    "user_totps": Placement.DISTRIBUTED,
    "authentication_audit": Placement.DISTRIBUTED,
    "user_passkeys": Placement.DISTRIBUTED,
    "passkey_user_handles": Placement.DISTRIBUTED,
    "passkey_sessions": Placement.DISTRIBUTED,
    "user_biometrics": Placement.DISTRIBUTED,
    "user_appkeys": Placement.DISTRIBUTED,
    "appkey_sessions": Placement.DISTRIBUTED,
    "appkey_single_shot_challenges": Placement.DISTRIBUTED,
    # Few rows, changed by administrators, joined by the hot path (the store and its policy) or
    # read by every request (API keys): a local copy on each worker beats a network hop.
    "stores": Placement.REFERENCE,
    "totp_policies": Placement.REFERENCE,
    "passkey_configs": Placement.REFERENCE,
    "appkey_configs": Placement.REFERENCE,
    "api_keys": Placement.REFERENCE,
    # `store_id` is empty for tenant-wide events, so it cannot be the distribution column.
    "admin_events": Placement.COORDINATOR,
}

# Where the schema may break Citus's rules, as tests/db/test_distribution.py finds them: none
# since migration 0013 (primary keys `(store_id, id)`, unique constraints and foreign keys that
# include `store_id`). Citus would refuse `create_distributed_table` on a table listed here.
# The test fails when this list and the schema disagree, in either direction: a fix must remove
# its line, and a new table or constraint must not add to the list unnoticed.
KNOWN_VIOLATIONS: frozenset[str] = frozenset()


def distributed_tables() -> list[str]:
    """The tables distributed by `store_id`, in name order."""
    return sorted(name for name, kind in PLACEMENTS.items() if kind is Placement.DISTRIBUTED)


def reference_tables() -> list[str]:
    """The tables copied to every node, in name order."""
    return sorted(name for name, kind in PLACEMENTS.items() if kind is Placement.REFERENCE)
