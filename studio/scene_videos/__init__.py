"""Scene videos: a scene's clips joined, with its dialogue, music and subtitles."""
