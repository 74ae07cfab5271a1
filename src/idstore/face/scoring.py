"""From the model's distance to the contract's score: 0-1, higher is more alike (API.md §11).

dlib's ResNet embedding was trained so that two photographs of one person lie closer than 0.6
apart (Euclidean) and two people farther; its authors report 99.38 % on the LFW benchmark at that
distance. The score is linear in the distance, `max(0, 1 - distance / 1.2)`: 0.6 maps to 0.5, which
is the default threshold, so the store's threshold keeps the model's own meaning. A distance of
1.2 or more (unrelated faces lie near 0.9-1.0) scores 0.
"""

from __future__ import annotations

from typing import Final

MODEL_NAME: Final = "dlib_face_recognition_resnet_model_v1"
# The embedding file of face_recognition_models 0.3.0 and dlib's HOG detector and 5-point
# landmarks: a change to any of them changes the scores, so the audit names all three.
MODEL_VERSION: Final = "dlib-20.0/frm-0.3.0/hog+5pt"
SAME_PERSON_DISTANCE: Final = 0.6
_ZERO_SCORE_DISTANCE: Final = 2 * SAME_PERSON_DISTANCE
DEFAULT_MATCH_THRESHOLD: Final = 1.0 - SAME_PERSON_DISTANCE / _ZERO_SCORE_DISTANCE


def score_of(distance: float) -> float:
    """The 0-1 score of an embedding distance; raises ValueError for a negative or NaN distance."""
    if not distance >= 0.0:
        raise ValueError("a distance is a non-negative number")
    return max(0.0, 1.0 - distance / _ZERO_SCORE_DISTANCE)
