"""Every `idstore` command says what it does; every option of `serve` has an IDSTORE_* twin."""

from __future__ import annotations

import argparse
import subprocess

import pytest

from idstore.cli import _parser
from idstore.settings import Settings
from tests.support.processes import idstore_command


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, tuple[str, str]]:
    """Every command and sub-command: its one-line help and its parser's description."""
    found: dict[str, tuple[str, str]] = {}
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        for name, sub in action.choices.items():
            found[f"{prefix}{name}"] = (helps.get(name, ""), sub.description or "")
            found.update(_commands(sub, f"{prefix}{name} "))
    return found


COMMANDS = _commands(_parser())


def test_the_commands_the_operators_use_are_there() -> None:
    expected = {
        "serve",
        "migrate",
        "api-key create",
        "rotate-keys",
        "verify-audit",
        "export-audit",
        "demo",
    }

    assert expected <= set(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_command_says_what_it_does_in_the_command_list(command: str) -> None:
    one_line, _ = COMMANDS[command]

    assert len(one_line.split()) >= 4, (
        f"`idstore {command}` needs a help line that says what it does"
    )


@pytest.mark.parametrize("command", ["serve", "rotate-keys", "api-key create"])
def test_help_runs_as_a_real_process_and_names_the_command(command: str) -> None:
    shown = subprocess.run(
        [str(idstore_command()), *command.split(), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"usage: idstore {command}")


def test_every_option_of_serve_names_its_environment_twin() -> None:
    serve = next(
        action.choices["serve"]
        for action in _parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    variables = {f"IDSTORE_{name.upper()}" for name in Settings.__dataclass_fields__}

    options = [
        action for action in serve._actions if action.option_strings and action.dest != "help"
    ]

    assert options
    for option in options:
        twin = f"IDSTORE_{option.dest.upper()}"
        assert twin in variables, f"{option.option_strings[0]} has no setting {twin}"
        assert twin in (option.help or ""), f"{option.option_strings[0]} should name {twin}"


@pytest.mark.parametrize("group", ["api-key", "export-key"])
def test_a_command_group_without_its_sub_command_shows_its_own_help(group: str) -> None:
    shown = subprocess.run(
        [str(idstore_command()), group],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert shown.returncode == 2
    assert shown.stderr.startswith(f"usage: idstore {group} ")
    assert "create" in shown.stderr


def _option_helps(command: str) -> dict[str, str]:
    parser = _parser()
    for name in command.split():
        parser = next(
            action.choices[name]
            for action in parser._actions
            if isinstance(action, argparse._SubParsersAction)
        )
    return {
        action.option_strings[0]: action.help or ""
        for action in parser._actions
        if action.option_strings
    }


MAINTENANCE = [
    "migrate",
    "api-key create",
    "rotate-keys",
    "verify-audit",
    "export-audit",
    "import-totp",
    "export",
    "import",
]


@pytest.mark.parametrize("command", MAINTENANCE)
def test_a_command_on_the_database_takes_its_location_like_serve(command: str) -> None:
    helps = _option_helps(command)

    assert "IDSTORE_DATABASE_URL" in helps["--database-url"]
    assert "IDSTORE_DATA_DIR" in helps["--data-dir"]


def test_migrate_says_what_it_does_beyond_its_help_line() -> None:
    _, description = COMMANDS["migrate"]

    assert "creating the SQLite file" in description


def test_the_demo_help_names_the_settings_its_default_url_follows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["demo", "--help"])

    shown = " ".join(capsys.readouterr().out.split())
    assert "default http://IDSTORE_HOST:IDSTORE_PORT" in shown
    assert "http://127.0.0.1:8080 unless they are set" in shown
