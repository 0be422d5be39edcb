"""kohya's real output (captured from sd-scripts) read by the parser the Pipes launcher uses."""

import pytest

from studio.training.kohya_output import (Epoch, KohyaOutputParser, LogLine, Progress, Saved,
                                          TrainingProgress, failure_summary)
from tests.conftest import FIXTURES

KOHYA = FIXTURES / "kohya"


def replay(stdout: str, stderr: str, epochs=2, chunk=None) -> TrainingProgress:
    parser, progress = KohyaOutputParser(), TrainingProgress(epochs=epochs)
    for stream, name in (("stdout", stdout), ("stderr", stderr)):
        text = (KOHYA / name).read_bytes().decode("utf-8")
        pieces = [text] if chunk is None else [text[i:i + chunk] for i in range(0, len(text), chunk)]
        for piece in pieces:
            for event in parser.feed(stream, piece):
                progress.add(event)
    for event in parser.close():
        progress.add(event)
    return progress


@pytest.mark.parametrize("chunk", [None, 7, 100])
def test_training_run_gives_its_loss_per_step_and_epoch_however_the_pipe_cuts_it(chunk):
    progress = replay("train_stdout.txt", "train_stderr.txt", chunk=chunk)
    assert progress.total_steps == 8 and progress.last_step == 8
    assert progress.loss_curve() == [[1, 1.06], [2, 1.08], [3, 1.1], [4, 1.05], [5, 1.06], [6, 0.987],
                                     [7, 0.936], [8, 0.972]]
    assert progress.loss_by_epoch() == [1.05, 0.972]
    assert progress.epochs_seen == 2 and progress.model_saved
    assert progress.saved[-1].endswith("/tiny_char.safetensors")


def test_log_record_glued_to_a_bar_is_its_own_line():
    parser = KohyaOutputParser()
    events = parser.feed("stderr", "\rsteps:  50%|█████     | 4/8 [00:05<00:05,  1.30s/it, avr_loss=1.05]"
                                   "2026-12-01 20:01:38 INFO     epoch is incremented.  train_util.py:784\n")
    assert events == [Progress(4, 8, 1.05),
                      LogLine("stderr", "2026-12-01 20:01:38 INFO     epoch is incremented.  train_util.py:784")]
    assert parser.feed("stdout", "epoch 2/2\nsaving checkpoint: /o/x.safetensors\n") == [
        Epoch(2, 2), Saved("/o/x.safetensors")]
    # step 0 has no postfix; a rate in it/s and H:MM:SS times past an hour still parse
    first, second = parser.feed("stderr", "\rsteps:   0%|          | 0/8 [00:00<?, ?it/s]\r"
                                          "steps:  12%|█▎        | 1/8 [1:00:01<7:00:12,  2.81it/s, avr_loss=0.5]\r")
    assert first == Progress(0, 8, None) and second == Progress(1, 8, 0.5)


def test_simple_console_log_run_parses_the_same():
    progress = replay("train_simple.stdout.txt", "train_simple.stderr.txt")
    assert progress.loss_by_epoch() == [1.05, 0.972] and progress.model_saved


def test_killed_group_run_ends_mid_bar_with_its_last_loss_and_no_save():
    progress = replay("sigterm.stdout.txt", "sigterm.stderr.txt")
    # Killed between a step's two redraws: step 2 shows only step 1's average.
    assert progress.last_step == 2 and progress.loss_curve() == [[1, 1.06], [2, 1.06]]
    assert not progress.model_saved and progress.saved == []


@pytest.mark.parametrize("run, expected", [
    ("error_missing_ckpt", "ValueError: The provided pretrained_model_name_or_path"),
    ("error_wrong_arch", "KeyError: 1"),
    ("sigterm_child", "the trainer process died with SIGTERM"),
    ("error_missing_dir", "ERROR    No data found."),
])
def test_failure_summary_is_the_real_error_not_accelerates_wrapper(run, expected):
    progress = replay(f"{run}.stdout.txt", f"{run}.stderr.txt")
    assert failure_summary(list(progress.last_lines)).startswith(expected)
