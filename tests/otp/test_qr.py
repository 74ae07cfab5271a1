"""QR codes, read back with zbarimg (Debian package zbar-tools) as a phone would read them."""

import shutil
import subprocess

import pytest

from idstore.otp.codes import Algorithm
from idstore.otp.qr import qr_png, qr_svg, qr_text
from idstore.otp.uri import OtpauthParameters, build_otpauth_uri

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HALF_BLOCKS = frozenset("█▀▄ ")

SIMPLE_URI = (
    "otpauth://totp/Example:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    "&issuer=Example&algorithm=SHA1&digits=6&period=30"
)
ACCENTED_URI = build_otpauth_uri(
    OtpauthParameters(
        secret=b"12345678901234567890",
        issuer="Zoë Café",
        username="zoë & co 🔐",
        algorithm=Algorithm.SHA1,
        digits=6,
        period=30,
    )
)
LONG_URI = build_otpauth_uri(
    OtpauthParameters(
        secret=bytes(range(64)),
        issuer="A rather long issuer name, Ltd.",
        username="someone.with.a.long.address@subdomain.example.com",
        algorithm=Algorithm.SHA512,
        digits=8,
        period=60,
    )
)
URIS = [SIMPLE_URI, ACCENTED_URI, LONG_URI]


@pytest.fixture(scope="module")
def zbarimg() -> str:
    path = shutil.which("zbarimg")
    if path is None:
        pytest.fail(
            "zbarimg not found: install the zbar-tools package (apt-get install zbar-tools)"
        )
    return path


def read_qr(zbarimg: str, image: bytes) -> str:
    scanned = subprocess.run(
        [zbarimg, "--quiet", "--raw", "-"], input=image, capture_output=True, check=True
    )
    return scanned.stdout.decode("utf-8").removesuffix("\n")


def text_to_pbm(drawing: str, *, pixels_per_module: int = 4) -> bytes:
    """Turn qr_text's drawing into a plain PBM image, reading blocks as light and spaces as dark."""
    halves = {"█": (0, 0), "▀": (0, 1), "▄": (1, 0), " ": (1, 1)}  # PBM: 1 is black
    rows: list[list[int]] = []
    for line in drawing.split("\n"):
        rows.append([halves[character][0] for character in line])
        rows.append([halves[character][1] for character in line])

    pixel_rows = [
        " ".join(str(module) for module in row for _ in range(pixels_per_module))
        for row in rows
        for _ in range(pixels_per_module)
    ]
    header = f"P1\n{len(rows[0]) * pixels_per_module} {len(rows) * pixels_per_module}\n"
    return (header + "\n".join(pixel_rows) + "\n").encode("ascii")


def test_the_accented_uri_is_percent_encoded() -> None:
    assert "Zo%C3%AB%20Caf%C3%A9" in ACCENTED_URI


@pytest.mark.parametrize("uri", URIS, ids=["simple", "accented", "long"])
def test_png_reads_back_as_exactly_the_uri(zbarimg: str, uri: str) -> None:
    png = qr_png(uri)

    assert png.startswith(PNG_SIGNATURE)
    assert read_qr(zbarimg, png) == uri


def test_png_reads_back_raw_utf8_text(zbarimg: str) -> None:
    assert read_qr(zbarimg, qr_png("Zoë Café 🔐")) == "Zoë Café 🔐"


def test_svg_is_an_svg_document() -> None:
    svg = qr_svg(SIMPLE_URI).decode("utf-8")

    assert svg.startswith("<?xml")
    assert "<svg" in svg
    assert svg.rstrip().endswith("</svg>")


def test_text_uses_only_half_blocks_and_spaces() -> None:
    lines = qr_text(SIMPLE_URI).split("\n")

    assert all(HALF_BLOCKS.issuperset(line) for line in lines)
    assert len({len(line) for line in lines}) == 1


def test_text_draws_the_light_quiet_zone_as_full_blocks() -> None:
    lines = qr_text(SIMPLE_URI).split("\n")

    width = len(lines[0])
    assert lines[:2] == ["█" * width] * 2
    assert all(line.startswith("████") and line.endswith("████") for line in lines[:-1])
    assert lines[-1] == "▀" * width  # the quiet zone's last row, alone on its line


@pytest.mark.parametrize("uri", URIS, ids=["simple", "accented", "long"])
def test_text_reads_back_as_the_uri_when_blocks_show_light(zbarimg: str, uri: str) -> None:
    pbm = text_to_pbm(qr_text(uri))

    assert read_qr(zbarimg, pbm) == uri
