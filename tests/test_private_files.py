"""Files the commands write: a link or file planted beside the target is never opened, the
file is 0600 whatever was there, and it appears only whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from idstore.crypto.keysource import write_key_file
from idstore.private_files import private_binary_file, private_text_file
from tests.support.planted import VICTIM_TEXT, plant


def test_a_planted_link_and_a_planted_open_file_at_the_old_partial_name_are_left_alone(
    tmp_path: Path,
) -> None:
    victim = plant(tmp_path, link="out.jsonl.partial", open_file="out.jsonl.new")
    out = tmp_path / "out.jsonl"

    with private_text_file(out) as written:
        written.write("record\n")

    assert out.read_text() == "record\n"
    assert os.stat(out, follow_symlinks=False).st_mode & 0o777 == 0o600
    assert victim.read_text() == VICTIM_TEXT
    assert (tmp_path / "out.jsonl.new").read_text() == ""
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == ["out.jsonl", "out.jsonl.new", "out.jsonl.partial", "victim"]


def test_a_link_at_the_target_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    out = tmp_path / "out.jsonl"
    out.symlink_to(victim)

    with private_text_file(out) as written:
        written.write("record\n")

    assert not out.is_symlink()
    assert (out.read_text(), victim.read_text()) == ("record\n", "precious\n")


def test_without_replace_an_existing_name_or_dangling_link_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "export.jsonl"
    out.symlink_to(tmp_path / "nowhere")

    with pytest.raises(FileExistsError), private_binary_file(out, replace=False) as written:
        written.write(b"sealed\n")

    assert os.readlink(out) == str(tmp_path / "nowhere")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["export.jsonl"]


def test_a_failure_while_writing_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"

    with pytest.raises(RuntimeError), private_text_file(out) as written:
        written.write("half")
        raise RuntimeError("the database went away")

    assert list(tmp_path.iterdir()) == []


def test_the_key_file_is_rewritten_0600_past_a_planted_link_and_open_file(tmp_path: Path) -> None:
    key_file = tmp_path / "keyring"
    key_file.write_text("old\n")
    key_file.chmod(0o600)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "keyring.new").symlink_to(victim)

    write_key_file(key_file, "new\n")

    assert key_file.read_text() == "new\n"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert victim.read_text() == "precious\n"
