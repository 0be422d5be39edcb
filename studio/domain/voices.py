"""A character's voice, and the cache key of one line's audio.

Offline there is one bundled speaker (piper's `joe` voice); characters still sound apart by speaker
settings (phoneme length, noise) and a pitch shift. A character with no voice in the spec gets one
derived from its slug, so two unconfigured characters differ and keep the same voice across runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

# Bump when the way line audio is produced changes (trim, sample rate...): every cached line is redone.
LINE_AUDIO_FORMAT = 1
# Pitch steps an unconfigured character may get, in semitones: apart enough to hear, never cartoonish.
_DERIVED_PITCHES = (-3.0, -1.5, 0.0, 1.5, 3.0, 4.5)
_DERIVED_LENGTHS = (0.95, 1.0, 1.05)


@dataclass(frozen=True)
class Voice:
    voice: str = "joe"  # piper: the bundled model's name; live TTS: the server's voice name
    length_scale: float = 1.0  # piper: > 1 speaks slower
    noise_scale: float = 0.667  # piper: generator noise (expressiveness)
    noise_w: float = 0.8  # piper: phoneme width noise (rhythm)
    pitch_semitones: float = 0.0  # applied after synthesis (ffmpeg rubberband), both engines
    speed: float = 1.0  # live TTS: the request's `speed`
    model: str = "tts-1"  # live TTS: the request's `model`

    def settings(self) -> dict[str, Any]:
        return asdict(self)


VOICE_FIELDS = frozenset(Voice.__dataclass_fields__)


def voice_for(character: str, configured: Mapping[str, Any] | None) -> Voice:
    """The voice a character speaks with: what the spec says, the rest derived from its slug."""
    digest = hashlib.sha256(character.encode()).digest()
    derived = Voice(pitch_semitones=_DERIVED_PITCHES[digest[0] % len(_DERIVED_PITCHES)],
                    length_scale=_DERIVED_LENGTHS[digest[1] % len(_DERIVED_LENGTHS)])
    given = {k: v for k, v in (configured or {}).items() if v is not None}
    unknown = set(given) - VOICE_FIELDS
    if unknown:
        raise ValueError(f"voice of {character!r}: unknown setting(s) {', '.join(sorted(unknown))}")
    return replace(derived, **given)


def line_audio_key(engine: str, voice: Voice, text: str) -> str:
    """Same engine, voice settings and text: same audio. Whitespace runs do not make a new line."""
    canonical = json.dumps({"format": LINE_AUDIO_FORMAT, "engine": engine, "voice": voice.settings(),
                            "text": " ".join(text.split())}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
