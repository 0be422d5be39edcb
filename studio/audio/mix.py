"""A scene's sound: the dialogue track, and the music bed ducked under it.

The dialogue track is assembled sample-exactly in memory: each line's audio (already trimmed to its
speech onset) is added at its placement, so speech starts where the plan says to the sample. The
music bed is looped or cut to the scene's length, faded in and out, set to its level, and ducked by
`sidechaincompress` keyed on the dialogue (`asplit`: one copy keys the compressor, one is mixed),
then summed with the dialogue by `amix normalize=0` (amix otherwise scales every input down).

How much the compressor lowers the music depends on how far the key rises over its threshold. The
key is boosted (`level_sc`) so that this scene's own speech level, measured on the dialogue track,
reaches the configured ducking depth at the configured ratio, with a margin for the quieter syllables.
"""

from __future__ import annotations

import math
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.audio.line_cache import SAMPLE_RATE
from studio.media.ffmpeg import run_ffmpeg


@dataclass(frozen=True)
class MixSettings:
    music_volume: float = 0.3
    duck_db: float = 8.0  # the least the music is lowered under speech
    threshold: float = 0.02  # compressor threshold on the (boosted) key, linear
    ratio: float = 8.0
    attack_ms: float = 40.0
    release_ms: float = 600.0
    margin_db: float = 6.0  # syllables quieter than the speech's RMS still duck fully
    fade_in_s: float = 1.5
    fade_out_s: float = 2.0


@dataclass(frozen=True)
class DialogueTrack:
    path: Path
    speech_rms_db: float | None  # over the placed lines only; None when there is no speech


def read_pcm(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) != (SAMPLE_RATE, 1, 2):
            raise ValueError(f"{path}: line audio must be {SAMPLE_RATE} Hz mono 16-bit")
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float32) / 32768


def write_pcm(path: Path, samples: np.ndarray) -> None:
    pcm = (np.clip(samples, -1.0, 32767 / 32768) * 32768).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm.tobytes())


def dialogue_track(lines: Sequence[tuple[float, Path]], duration_s: float, out: Path) -> DialogueTrack:
    """Each (start_s, line wav) added at its start into a track of `duration_s`."""
    track = np.zeros(round(duration_s * SAMPLE_RATE), np.float32)
    energy, count = 0.0, 0
    for start_s, path in lines:
        x = read_pcm(path)
        at = round(start_s * SAMPLE_RATE)
        x = x[:max(0, len(track) - at)]
        track[at:at + len(x)] += x
        energy, count = energy + float(np.dot(x, x)), count + len(x)
    write_pcm(out, track)
    rms = math.sqrt(energy / count) if count else 0.0
    return DialogueTrack(out, 20 * math.log10(rms) if rms > 0 else None)


def key_boost(speech_rms_db: float, settings: MixSettings) -> float:
    """`level_sc` that puts speech far enough over the threshold to duck by `duck_db` at `ratio`."""
    needed_over = settings.duck_db / (1 - 1 / settings.ratio) + settings.margin_db
    over_now = speech_rms_db - 20 * math.log10(settings.threshold)
    return min(64.0, max(1.0, 10 ** ((needed_over - over_now) / 20)))


def _music_chain(duration_s: float, settings: MixSettings) -> str:
    fade_in = min(settings.fade_in_s, duration_s / 3)
    fade_out = min(settings.fade_out_s, duration_s / 3)
    return (f"aformat=sample_fmts=fltp:sample_rates={SAMPLE_RATE}:channel_layouts=mono,"
            f"atrim=duration={duration_s:.6f},asetpts=N/SR/TB,"
            f"afade=t=in:st=0:d={fade_in:.3f},afade=t=out:st={duration_s - fade_out:.3f}:d={fade_out:.3f},"
            f"volume={settings.music_volume:.4f}")


def mix_scene(dialogue: DialogueTrack | None, music: Path | None, duration_s: float, out: Path,
              settings: MixSettings = MixSettings()) -> str:
    """Write the scene's mixed sound (48 kHz mono WAV, exactly `duration_s`); returns what went in."""
    exact = f"apad=whole_dur={duration_s:.6f},atrim=duration={duration_s:.6f}"
    inputs: list[str] = []
    if dialogue is not None:
        inputs += ["-i", str(dialogue.path)]
    if music is not None:
        inputs += ["-stream_loop", "-1", "-i", str(music)]
    m = 1 if dialogue is not None else 0
    if dialogue is not None and music is not None and dialogue.speech_rms_db is not None:
        duck = (f"sidechaincompress=threshold={settings.threshold}:ratio={settings.ratio}"
                f":attack={settings.attack_ms}:release={settings.release_ms}"
                f":level_sc={key_boost(dialogue.speech_rms_db, settings):.3f}")
        graph = (f"[0:a]aformat=sample_fmts=fltp:channel_layouts=mono,asplit=2[key][speech];"
                 f"[{m}:a]{_music_chain(duration_s, settings)}[bed];[bed][key]{duck}[ducked];"
                 f"[speech][ducked]amix=inputs=2:normalize=0:duration=first,{exact}[out]")
        made = "dialogue + ducked music"
    elif music is not None:
        graph = f"[{m}:a]{_music_chain(duration_s, settings)},{exact}[out]"
        made = "music"
    elif dialogue is not None:
        graph = f"[0:a]anull,{exact}[out]"
        made = "dialogue"
    else:
        inputs = ["-f", "lavfi", "-i", f"anullsrc=r={SAMPLE_RATE}:cl=mono"]
        graph = f"[0:a]{exact}[out]"
        made = "silence"
    run_ffmpeg([*inputs, "-filter_complex", graph, "-map", "[out]", "-ar", SAMPLE_RATE, "-ac", 1,
                "-c:a", "pcm_s16le", "-y", out])
    return made
