"""Motion presets: per shot type, the camera move, a default duration and the motion prompt.

One table, read by the planner (allowed shot types and their defaults), the renderers (FramePack's
motion prompt; the preview's zoom and pan) and served as it is by the API. The preview numbers are
the start and end of a slow Ken Burns move: `zoom` is the scale at the clip's end (1.0 = none; never below 1: a clip starts on its start frame
exactly and the preview cannot show what lies outside it),
`pan` the centre's travel as a fraction of the frame (x, y), from the first frame to the last.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class MotionPreset:
    shot_type: str
    camera_move: str
    default_duration_s: float
    motion_prompt: str
    zoom: float
    pan: tuple[float, float]

    def as_dict(self) -> dict:
        return asdict(self)


_PRESETS = (
    MotionPreset("establishing", "slow push-in", 4.0,
                 "slow cinematic push-in, gentle parallax, clouds and water drifting", 1.12, (0.0, 0.0)),
    MotionPreset("wide", "slow pan right", 3.5,
                 "slow pan to the right across the scene, subtle ambient motion", 1.06, (0.06, 0.0)),
    MotionPreset("medium", "static with subtle drift", 3.0,
                 "character breathes and shifts weight, hair and clothes move slightly", 1.04, (0.02, 0.0)),
    MotionPreset("close_up", "slow push-in", 2.5,
                 "character blinks and speaks softly, slight head movement", 1.10, (0.0, -0.02)),
    MotionPreset("over_the_shoulder", "slight pan left", 3.0,
                 "over the shoulder view, listener nods, background softly moves", 1.05, (-0.04, 0.0)),
    MotionPreset("reaction", "quick push-in", 2.0,
                 "character reacts with surprise, eyes widen", 1.15, (0.0, 0.0)),
    MotionPreset("action", "tracking pan", 2.5,
                 "fast dynamic motion, the character moves across the frame", 1.08, (0.10, 0.02)),
    MotionPreset("insert", "static", 2.0,
                 "close detail, small movement of the object, flickering light", 1.02, (0.0, 0.0)),
    MotionPreset("pull_out", "slow pull-out", 4.0,
                 "slow pull back revealing the surroundings", 1.0, (0.0, 0.03)),
)

MOTION_PRESETS: dict[str, MotionPreset] = {p.shot_type: p for p in _PRESETS}
SHOT_TYPES: tuple[str, ...] = tuple(MOTION_PRESETS)
DEFAULT_SHOT_TYPE = "medium"


def motion_preset(shot_type: str) -> MotionPreset:
    preset = MOTION_PRESETS.get(shot_type)
    if preset is None:
        raise ValueError(f"unknown shot type {shot_type!r}: one of {', '.join(SHOT_TYPES)}")
    return preset


def motion_prompt_for(shot_type: str, motion_prompt: str | None) -> str:
    """The shot's own motion prompt, or its type's default when it has none."""
    return motion_prompt.strip() if motion_prompt and motion_prompt.strip() else motion_preset(shot_type).motion_prompt
