"""Templates: the stored form round-trips exactly, and anything else is refused, not compared."""

from __future__ import annotations

import math

import numpy as np
import pytest

from idstore.face import DEFAULT_MATCH_THRESHOLD, FaceTemplate, MalformedTemplate, score_of
from idstore.face.templates import TEMPLATE_BYTES

EMBEDDING = [math.sin(index) / 8 for index in range(128)]


def test_the_stored_form_is_a_version_byte_then_128_little_endian_float32() -> None:
    template = FaceTemplate.of(EMBEDDING, quality=0.75)

    stored = template.to_bytes()

    assert len(stored) == TEMPLATE_BYTES == 513
    assert stored[0] == 1
    assert np.array_equal(np.frombuffer(stored[1:], "<f4"), np.array(EMBEDDING, dtype=np.float32))


def test_a_template_survives_its_stored_form_exactly() -> None:
    template = FaceTemplate.of(EMBEDDING, quality=0.75)

    assert FaceTemplate.from_bytes(template.to_bytes(), quality=0.75) == template


@pytest.mark.parametrize(
    "stored",
    [
        b"",
        bytes([1]) + bytes(511),  # one byte short
        bytes([1]) + bytes(513),  # one byte long
        bytes([2]) + bytes(512),  # a version this code does not know
        bytes([1]) + np.full(128, np.nan, "<f4").tobytes(),
        bytes([1]) + np.full(128, np.inf, "<f4").tobytes(),
    ],
)
def test_a_stored_template_of_another_form_is_refused(stored: bytes) -> None:
    with pytest.raises(MalformedTemplate):
        FaceTemplate.from_bytes(stored, quality=0.5)


@pytest.mark.parametrize("quality", [-0.01, 1.01, math.nan])
def test_a_quality_outside_0_to_1_is_refused(quality: float) -> None:
    with pytest.raises(MalformedTemplate):
        FaceTemplate.of(EMBEDDING, quality=quality)


def test_an_embedding_of_another_length_is_refused() -> None:
    with pytest.raises(MalformedTemplate):
        FaceTemplate.of(EMBEDDING[:127], quality=0.5)


def test_the_embedding_never_shows_in_a_template_repr() -> None:
    text = repr(FaceTemplate.of(EMBEDDING, quality=0.75))

    assert text == "FaceTemplate(quality=0.75)"


def test_the_distance_is_euclidean() -> None:
    origin = FaceTemplate.of([0.0] * 128, quality=1.0)
    corner = FaceTemplate.of([0.0] * 124 + [0.25] * 4, quality=1.0)

    assert origin.distance_to(corner) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("distance", "score"), [(0.0, 1.0), (0.3, 0.75), (0.6, 0.5), (1.2, 0.0), (1.9, 0.0)]
)
def test_the_score_falls_linearly_from_1_to_0_at_twice_dlibs_distance(
    distance: float, score: float
) -> None:
    assert score_of(distance) == pytest.approx(score)


def test_the_default_threshold_is_dlibs_same_person_distance() -> None:
    assert DEFAULT_MATCH_THRESHOLD == pytest.approx(score_of(0.6)) == pytest.approx(0.5)


@pytest.mark.parametrize("distance", [-0.1, math.nan])
def test_a_distance_that_is_no_distance_is_refused(distance: float) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        score_of(distance)
