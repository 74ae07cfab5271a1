"""What an attacker who can write to an output's directory plants at the names a command
might open: a link to a file of the victim's, and an empty file anyone may write (mode 0666)."""

from __future__ import annotations

from pathlib import Path

VICTIM_TEXT = "precious\n"


def plant(folder: Path, *, link: str, open_file: str) -> Path:
    """Plant a link named `link` to a new victim file and an open file named `open_file`;
    returns the victim, whose text must stay VICTIM_TEXT."""
    victim = folder / "victim"
    victim.write_text(VICTIM_TEXT)
    (folder / link).symlink_to(victim)
    planted = folder / open_file
    planted.write_text("")
    planted.chmod(0o666)
    return victim
