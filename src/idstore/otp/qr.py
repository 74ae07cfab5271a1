"""QR codes of otpauth URIs, as PNG, SVG or terminal text, for authenticator apps to scan."""

import io
from collections.abc import Sequence

import segno

# "M" restores about 15% of damaged modules; segno raises it further when that costs no size.
_ERROR_CORRECTION = "m"
_QUIET_ZONE_MODULES = 4  # ISO/IEC 18004 asks for 4 light modules around the symbol
_PIXELS_PER_MODULE = 5
_TEXT_ENCODING = "utf-8"  # what phone apps assume for byte-mode text without an ECI marker

# Two module rows per text line: (is the upper one light, is the lower one light) -> character.
_HALF_BLOCKS = {
    (True, True): "█",
    (True, False): "▀",
    (False, True): "▄",
    (False, False): " ",
}


def qr_png(text: str) -> bytes:
    """Return a PNG image of a QR code holding `text`, 5 pixels per module, 4 modules of margin.

    Raises segno's DataOverflowError (a ValueError) if the text does not fit in a QR code.
    """
    return _save(text, kind="png")


def qr_svg(text: str) -> bytes:
    """Return an SVG document (UTF-8) of a QR code holding `text`, with 4 modules of margin.

    Raises segno's DataOverflowError (a ValueError) if the text does not fit in a QR code.
    """
    return _save(text, kind="svg")


def qr_text(text: str) -> str:
    """Return a QR code holding `text`, drawn in Unicode half blocks for a terminal.

    Each line draws two module rows with "█", "▀", "▄" and space, lines separated by "\\n"
    (no trailing newline). Light modules, the quiet zone included, are drawn as blocks and
    dark modules as spaces: the code reads correctly where the terminal shows light text
    on a dark background, the common default. On a light background it appears inverted,
    which not every scanner reads.
    Raises segno's DataOverflowError (a ValueError) if the text does not fit in a QR code.
    """
    rows = [
        [not is_dark for is_dark in row]
        for row in _make(text).matrix_iter(scale=1, border=_QUIET_ZONE_MODULES)
    ]

    # A symbol with its quiet zone has an odd number of rows: the last line has no lower
    # row, which stays dark (the terminal's background) below the light quiet zone.
    lines = [
        _draw_line(rows[index], rows[index + 1] if index + 1 < len(rows) else None)
        for index in range(0, len(rows), 2)
    ]

    return "\n".join(lines)


def _make(text: str) -> segno.QRCode:
    return segno.make(text, error=_ERROR_CORRECTION, encoding=_TEXT_ENCODING, micro=False)


def _save(text: str, *, kind: str) -> bytes:
    image = io.BytesIO()
    _make(text).save(image, kind=kind, scale=_PIXELS_PER_MODULE, border=_QUIET_ZONE_MODULES)
    return image.getvalue()


def _draw_line(upper: Sequence[bool], lower: Sequence[bool] | None) -> str:
    lower_row = lower if lower is not None else [False] * len(upper)
    return "".join(
        _HALF_BLOCKS[is_upper_light, is_lower_light]
        for is_upper_light, is_lower_light in zip(upper, lower_row, strict=True)
    )
