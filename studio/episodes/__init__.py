"""Episodes as files: assembling scene videos, publishing to the Jellyfin library, GPU accounting."""
