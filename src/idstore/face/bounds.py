"""The bounds of an accepted photograph (API.md §11), apart from the decoder that enforces them so
that callers may check the size first without importing the image libraries."""

from typing import Final

MAX_IMAGE_BYTES: Final = 10 * 1024 * 1024
MAX_IMAGE_PIXELS: Final = 25_000_000
