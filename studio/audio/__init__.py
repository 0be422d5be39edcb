"""Scene sound: speech per line, the dialogue track, the music bed and the mix."""
