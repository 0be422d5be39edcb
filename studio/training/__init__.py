"""LoRA training: the dataset snapshot kohya reads, the trainer commands, the Pipes launcher that runs
them, the preview trainer, and the checkpoint rows."""
