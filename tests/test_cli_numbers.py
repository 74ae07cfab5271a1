"""Numeric options take ASCII digits only: int() and float() would read other scripts' digits
(the Arabic-Indic digits one, zero as 10), signs, spaces and underscores."""

from __future__ import annotations

import pytest

from idstore.cli import main

ARABIC_INDIC_TEN = "\u0661\u0660"


@pytest.mark.parametrize(
    "arguments",
    [
        ["export-audit", "--store", "main", "--batch-size", ARABIC_INDIC_TEN],
        ["serve", "--port", ARABIC_INDIC_TEN],
        ["serve", "--workers", "+2"],
        ["serve", "--port", "8_080"],
        ["rotate-keys", "--wait", ARABIC_INDIC_TEN],
        ["rotate-keys", "--wait", "1e3"],
    ],
    ids=["batch-size", "port", "workers-sign", "port-underscore", "wait", "wait-exponent"],
)
def test_a_number_not_written_in_ascii_digits_is_a_usage_error(
    arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(arguments)

    assert stopped.value.code == 2
    assert f"argument {arguments[-2]}: " in capsys.readouterr().err
