"""Scene sound as a Dagster resource: which speech engine speaks, and how the music is mixed.

The TTS API key is a secret and never sits in resource config (the UI shows config): it is read from
the settings when the client is made.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from studio.audio.mix import MixSettings
from studio.audio.tts import Synthesizer, synthesizer_for
from studio.scene_videos.build import SceneSoundOptions
from studio.settings import load_settings


class SceneSoundResource(dg.ConfigurableResource):
    tts_url: str = Field("", description="live TTS server (POST /v1/audio/speech); empty: offline piper")
    music_volume: float = 0.3
    music_duck_db: float = 8.0
    music_urls_allowed: bool = False
    speaker_names: bool = Field(True, description="subtitles start with who speaks")

    def get_client(self) -> Synthesizer:
        return synthesizer_for(self.tts_url, load_settings().secret("tts_api_key") if self.tts_url else None)

    def options(self) -> SceneSoundOptions:
        return SceneSoundOptions(mix=MixSettings(music_volume=self.music_volume, duck_db=self.music_duck_db),
                                 music_urls_allowed=self.music_urls_allowed, speaker_names=self.speaker_names)


def scene_sound_resources(settings) -> dict:
    return {"scene_sound": SceneSoundResource(tts_url=settings.tts_url, music_volume=settings.music_volume,
                                              music_duck_db=settings.music_duck_db,
                                              music_urls_allowed=settings.music_urls_allowed)}
