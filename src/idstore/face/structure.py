"""A cheap walk over a JPEG's markers or a PNG's chunks, refusing files whose shape alone would
make the decoder work for minutes (3502), before a pixel is decoded.

A progressive JPEG may repeat one scan thousands of times: each ~30-byte scan makes the decoder
visit every block of the picture again. Thousands of tiny marker segments cost the parser
seconds too. Photographs hold a dozen segments and at most a few dozen scans, so both are
bounded far above what a camera writes. The walk skips entropy-coded data with a compiled regex
(in C), so its own cost grows with the number of markers, which it bounds, not with the bytes.
"""

from __future__ import annotations

import re
import struct
from typing import Final

from idstore.face.errors import ImageRefused

MAX_JPEG_SCANS: Final = 64
MAX_JPEG_SEGMENTS: Final = 1024
MAX_PNG_CHUNKS: Final = 20_000

_SOI: Final = b"\xff\xd8"
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_EOI: Final = 0xD9
_SOS: Final = 0xDA
# Markers with no length field: TEM and the restart markers (SOI and EOI are handled apart).
_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8)})
# The next marker after entropy-coded data: 0xFF followed by neither a stuffed 0x00, a restart
# marker, nor another 0xFF (fill bytes before a marker).
_NEXT_MARKER: Final = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
# A marker: 0xFF, any fill bytes (matched in C, however many), then the marker's code.
_MARKER: Final = re.compile(rb"\xff+[^\xff]")


def check_structure(image: bytes) -> None:
    """Raises ImageRefused (3502) for a JPEG with more than MAX_JPEG_SCANS scans or
    MAX_JPEG_SEGMENTS marker segments, or a PNG with more than MAX_PNG_CHUNKS chunks.
    Other formats pass: the decoder refuses them."""
    if image.startswith(_SOI):
        _check_jpeg(image)
    elif image.startswith(_PNG_SIGNATURE):
        _check_png(image)


def _check_jpeg(image: bytes) -> None:
    position, segments, scans = len(_SOI), 0, 0
    while position < len(image):
        marker, position = _marker_at(image, position)
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            raise ImageRefused(f"the JPEG has more than {MAX_JPEG_SEGMENTS} marker segments")
        if marker == _EOI:
            return
        if marker in _STANDALONE:
            continue
        if position + 2 > len(image):
            break
        (length,) = struct.unpack_from(">H", image, position)
        position += length
        if marker == _SOS:
            scans += 1
            if scans > MAX_JPEG_SCANS:
                raise ImageRefused(f"the JPEG has more than {MAX_JPEG_SCANS} scans")
            found = _NEXT_MARKER.search(image, position)
            position = found.start() if found else len(image)


def _marker_at(image: bytes, position: int) -> tuple[int, int]:
    """The marker at `position` (after any fill bytes) and the position after it."""
    found = _MARKER.match(image, position)
    if found is None:
        raise ImageRefused("the image header is corrupt")
    return image[found.end() - 1], found.end()


def _check_png(image: bytes) -> None:
    position, chunks = len(_PNG_SIGNATURE), 0
    while position + 8 <= len(image):
        length, kind = struct.unpack_from(">I4s", image, position)
        position += 12 + length  # length, type, data, CRC
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            raise ImageRefused(f"the PNG has more than {MAX_PNG_CHUNKS} chunks")
        if kind == b"IEND":
            return
