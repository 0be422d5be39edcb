"""Bringing a clip to an episode's stream parameters, so the concat demuxer can join it by stream copy.

The concat demuxer copies packets and trusts that every file has the same codec, size, frame rate,
pixel format, time base and audio format; a file that differs joins with exit 0 into a broken video
(DESIGN §5), and the joined file keeps only the first file's decoder configuration (SPS/PPS). So a
clip is compared on all of them and on that record (`clip_parameters`) and, if it differs, re-encoded
to the target: scaled and padded to size, resampled to the frame rate, written with the target's
time scale, its audio resampled (or silence added when it has none) and trimmed to the video.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.media.clips import ENCODE_ARGS
from studio.media.ffmpeg import AudioStream, MediaInfo, VideoStream, run_ffmpeg

# The one video codec we re-encode to; clips in another codec are always normalised.
ENCODED_CODEC = "h264"
DEFAULT_AUDIO = AudioStream("aac", 48000, "stereo")
_CHANNELS = {"mono": 1, "stereo": 2}


@dataclass(frozen=True)
class ClipParameters:
    video: VideoStream
    audio: AudioStream
    # the decoder configuration record (studio/media/mp4_boxes.py): a stream copy keeps only the
    # first file's, so clips whose parameter sets differ are not copied together
    video_config: str = ""


def clip_parameters(info: MediaInfo, video_config: str = "") -> ClipParameters | None:
    """What must match for a stream copy; None when the clip can never be copied as it is."""
    if info.video is None or info.audio is None or info.video.codec != ENCODED_CODEC:
        return None
    return ClipParameters(info.video, info.audio, video_config)


def fallback_target(info: MediaInfo) -> ClipParameters:
    """A target when no clip can be copied: the first clip's picture, in our codec, with stereo AAC."""
    if info.video is None:
        raise ValueError("the first scene video has no video stream")
    video = VideoStream(ENCODED_CODEC, info.video.width + info.video.width % 2, info.video.height + info.video.height % 2,
                        info.video.fps or 24.0, "yuv420p", info.video.timebase or 12288)
    return ClipParameters(video, DEFAULT_AUDIO)


def normalise_clip(source: Path, info: MediaInfo, target: ClipParameters, out: Path) -> Path:
    v, a = target.video, target.audio
    duration = f"{info.duration_s:.3f}"
    picture = (f"scale={v.width}:{v.height}:force_original_aspect_ratio=decrease,"
               f"pad={v.width}:{v.height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={v.fps:g},format={v.pix_fmt}")
    inputs = ["-i", str(source)]
    if info.audio is None:
        inputs += ["-f", "lavfi", "-i", f"anullsrc=r={a.sample_rate}:cl={a.channels}"]
    audio_map = "1:a:0" if info.audio is None else "0:a:0"
    args = [*inputs, "-map", "0:v:0", "-map", audio_map, "-vf", picture,
            "-af", f"aresample={a.sample_rate},apad", "-t", duration,
            *ENCODE_ARGS, "-video_track_timescale", str(v.timebase),
            "-c:a", "aac", "-b:a", "192k", "-ar", str(a.sample_rate), "-ac", str(_CHANNELS.get(a.channels, 2)),
            "-y", str(out)]
    run_ffmpeg(args)
    return out
