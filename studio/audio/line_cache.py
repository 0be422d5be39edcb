"""One line's audio, made once: cached on disk by (engine, voice settings, text).

A cached line is 48 kHz mono 16-bit PCM, pitch-shifted for its character and trimmed of leading and
trailing silence, so the line's first sample is its speech onset and placing a line at t puts the
speech at t. Editing one line of a scene changes one key: only that line is synthesised again.
Files are written under a temporary name and renamed, so a crash never leaves half a line behind.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

from studio.audio.tts import SpeechFailed, Synthesizer
from studio.domain.voices import Voice, line_audio_key
from studio.media.ffmpeg import FfmpegError, run_ffmpeg

SAMPLE_RATE = 48_000
# Quieter than this is taken as silence around a line (piper's own lead-in is about -70 dBFS).
TRIM_THRESHOLD_DB = -50


@dataclass(frozen=True)
class LineAudio:
    key: str
    path: Path
    duration_s: float
    synthesised: bool  # False: it came from the cache


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def shape_speech(raw: Path, out: Path, pitch_semitones: float) -> None:
    """Pitch, trim and resample raw speech into the cache's format."""
    trim = f"silenceremove=start_periods=1:start_threshold={TRIM_THRESHOLD_DB}dB"
    filters = [f"rubberband=pitch={2 ** (pitch_semitones / 12):.6f}"] if pitch_semitones else []
    filters += [trim, "areverse", trim, "areverse"]
    try:
        run_ffmpeg(["-y", "-i", raw, "-af", ",".join(filters), "-ac", "1", "-ar", SAMPLE_RATE,
                    "-c:a", "pcm_s16le", "-f", "wav", out])
    except FfmpegError as exc:
        raise SpeechFailed(f"the speech is not audio ffmpeg can read: {exc}") from exc


class LineAudioCache:
    def __init__(self, media_root: Path, synthesizer: Synthesizer):
        self.root = Path(media_root) / "audio" / "lines"
        self.synthesizer = synthesizer

    def path_for(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.wav"

    async def line(self, voice: Voice, text: str) -> LineAudio:
        key = line_audio_key(self.synthesizer.engine, voice, text)
        path = self.path_for(key)
        if path.is_file():
            return LineAudio(key, path, wav_duration(path), False)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".line-") as tmp:
            raw, shaped = Path(tmp) / "raw.wav", Path(tmp) / "shaped.wav"
            await self.synthesizer.speak(voice, text, raw)
            await asyncio.to_thread(shape_speech, raw, shaped, voice.pitch_semitones)
            duration = wav_duration(shaped)
            if duration <= 0:
                raise SpeechFailed(f"{self.synthesizer.engine}: the line {text[:40]!r} came out silent")
            os.replace(shaped, path)
        return LineAudio(key, path, duration, True)
