"""A face template: the model's 128-number embedding of one face, and its stored form.

The stored form is one version byte then 128 float32 values, little-endian: 513 bytes, sealed by the
caller like a secret. The quality travels beside it (the store lists it without opening the seal).
Parsing is strict: a blob of another length or version, or holding a value that is not a finite
number, is refused rather than compared. Pure Python (struct, math): the serving process handles
templates without loading numpy.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

EMBEDDING_SIZE: Final = 128
TEMPLATE_VERSION: Final = 1
TEMPLATE_BYTES: Final = 1 + 4 * EMBEDDING_SIZE
_EMBEDDING_LAYOUT: Final = struct.Struct(f"<{EMBEDDING_SIZE}f")


class MalformedTemplate(ValueError):
    """A stored template is not of this version's form: a corrupt row, or a newer format."""


@dataclass(frozen=True)
class FaceTemplate:
    """One enrolled or presented face; the embedding stays out of `repr`, so out of every log."""

    embedding: tuple[float, ...] = field(repr=False)
    quality: float

    def __post_init__(self) -> None:
        if len(self.embedding) != EMBEDDING_SIZE:
            raise MalformedTemplate(f"an embedding has {EMBEDDING_SIZE} values")
        if not all(math.isfinite(value) for value in self.embedding):
            raise MalformedTemplate("an embedding holds only finite numbers")
        if not (math.isfinite(self.quality) and 0.0 <= self.quality <= 1.0):
            raise MalformedTemplate("a quality lies between 0 and 1")

    @classmethod
    def of(cls, embedding: Sequence[float], *, quality: float) -> FaceTemplate:
        """A template whose embedding is rounded to float32, so that it survives its stored form.

        Raises MalformedTemplate for a wrong length, a value that is not finite or not a float32,
        or a quality outside 0-1.
        """
        if len(embedding) != EMBEDDING_SIZE:
            raise MalformedTemplate(f"an embedding has {EMBEDDING_SIZE} values")
        try:
            packed = _EMBEDDING_LAYOUT.pack(*embedding)
        except (OverflowError, struct.error) as exc:
            raise MalformedTemplate("an embedding holds float32 values") from exc
        return cls(_EMBEDDING_LAYOUT.unpack(packed), quality=quality)

    def to_bytes(self) -> bytes:
        """The stored form: the version byte, then the embedding as little-endian float32."""
        return bytes([TEMPLATE_VERSION]) + _EMBEDDING_LAYOUT.pack(*self.embedding)

    @classmethod
    def from_bytes(cls, stored: bytes, *, quality: float) -> FaceTemplate:
        """Parse the stored form back; `quality` is the one kept beside it.

        Raises MalformedTemplate for another length or version, or a value that is not finite.
        """
        if len(stored) != TEMPLATE_BYTES:
            raise MalformedTemplate(f"a stored template is {TEMPLATE_BYTES} bytes long")
        if stored[0] != TEMPLATE_VERSION:
            raise MalformedTemplate("the stored template's version is not known")
        return cls(_EMBEDDING_LAYOUT.unpack_from(stored, 1), quality=quality)

    def distance_to(self, other: FaceTemplate) -> float:
        """The Euclidean distance between two embeddings: the model's measure of likeness."""
        return math.dist(self.embedding, other.embedding)
