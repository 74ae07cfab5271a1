"""A cheap walk over a JPEG's markers or a PNG's chunks, refusing files whose shape alone would
make the decoder work for minutes, or that are cut short or carry other data after their end
(3502), before a pixel is decoded.

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

_CUT_SHORT: Final = "the image is truncated or corrupt"
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
    MAX_JPEG_SEGMENTS marker segments, a PNG with more than MAX_PNG_CHUNKS chunks, a JPEG or
    PNG cut short of its end marker (EOI, IEND) or followed by other bytes (a ZIP, say: a file
    that is two things at once). Other formats pass: the decoder refuses them."""
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
            if position == len(image):
                return
            # An MPO (a phone's several pictures) holds the next JPEG right after; else refuse.
            if not image.startswith(_SOI, position):
                raise ImageRefused("the JPEG is followed by other data")
            position += len(_SOI)
        elif marker not in _STANDALONE:
            position = _after_segment(image, position, marker)
            scans += marker == _SOS
            if scans > MAX_JPEG_SCANS:
                raise ImageRefused(f"the JPEG has more than {MAX_JPEG_SCANS} scans")
    raise ImageRefused(_CUT_SHORT)


def _after_segment(image: bytes, position: int, marker: int) -> int:
    """The position after the segment's length-counted body and, for a scan, its data."""
    if position + 2 > len(image):
        raise ImageRefused(_CUT_SHORT)
    (length,) = struct.unpack_from(">H", image, position)
    position += length
    if marker != _SOS:
        return position
    found = _NEXT_MARKER.search(image, position)
    return found.start() if found else len(image)


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
            if position != len(image):
                raise ImageRefused("the PNG is followed by other data")
            return
    raise ImageRefused(_CUT_SHORT if chunks else "the image header is corrupt")
