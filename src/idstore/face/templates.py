"""A face template: the model's 128-number embedding of one face, and its stored form.

The stored form is one version byte then 128 float32 values, little-endian: 513 bytes, sealed by the
caller like a secret. The quality travels beside it (the store lists it without opening the seal).
Parsing is strict: a blob of another length or version, or holding a value that is not a finite
number, is refused rather than compared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

EMBEDDING_SIZE: Final = 128
TEMPLATE_VERSION: Final = 1
TEMPLATE_BYTES: Final = 1 + 4 * EMBEDDING_SIZE
_LITTLE_FLOAT32: Final = np.dtype("<f4")


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

        Raises MalformedTemplate for a wrong length, a value that is not finite, or a quality
        outside 0-1.
        """
        rounded = np.asarray(embedding, dtype=np.float64).astype(np.float32)
        return cls(tuple(float(value) for value in rounded), quality=quality)

    def to_bytes(self) -> bytes:
        """The stored form: the version byte, then the embedding as little-endian float32."""
        values = np.asarray(self.embedding, dtype=_LITTLE_FLOAT32)
        return bytes([TEMPLATE_VERSION]) + values.tobytes()

    @classmethod
    def from_bytes(cls, stored: bytes, *, quality: float) -> FaceTemplate:
        """Parse the stored form back; `quality` is the one kept beside it.

        Raises MalformedTemplate for another length or version, or a value that is not finite.
        """
        if len(stored) != TEMPLATE_BYTES:
            raise MalformedTemplate(f"a stored template is {TEMPLATE_BYTES} bytes long")
        if stored[0] != TEMPLATE_VERSION:
            raise MalformedTemplate("the stored template's version is not known")
        values = np.frombuffer(stored, dtype=_LITTLE_FLOAT32, offset=1)
        return cls(tuple(float(value) for value in values), quality=quality)

    def distance_to(self, other: FaceTemplate) -> float:
        """The Euclidean distance between two embeddings: the model's measure of likeness."""
        difference = np.asarray(self.embedding) - np.asarray(other.embedding)
        return float(np.linalg.norm(difference))
