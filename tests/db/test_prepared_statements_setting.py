"""`?prepared_statements=false` on a PostgreSQL URL (docs/scaling.md): read, taken off the URL
the driver sees, and refused when misspelt. Building an engine connects to nothing."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import ArgumentError

from idstore.db.engine import Database

SERVER = "postgresql+asyncpg://idstore@127.0.0.1:5432/idstore"


def test_the_setting_is_taken_off_the_url_and_other_parameters_stay() -> None:
    database = Database(f"{SERVER}?prepared_statements=false&application_name=api")

    assert database.engine.url.query == {"application_name": "api"}
    assert database.engine.url.database == "idstore"
    assert database.prepared_statements is False


@pytest.mark.parametrize("value", ["maybe", "False ", "2"])
def test_a_value_neither_true_nor_false_is_refused(value: str) -> None:
    with pytest.raises(ArgumentError, match="prepared_statements"):
        Database(f"{SERVER}?prepared_statements={value}")


def test_a_url_without_the_setting_is_left_as_it_is() -> None:
    database = Database(SERVER)

    assert database.engine.url.render_as_string(hide_password=False) == SERVER
    assert database.prepared_statements is True
