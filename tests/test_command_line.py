"""The app's options combine with `lesson NAME` and `open RUN.bps` in either order, as the help says;
options put before another subcommand are refused with a message that says where they go."""

import pytest

from backprop_studio import main as cli_main
from backprop_studio.core.session.launch import ExitCode
from tests.util import loss_only_recording, write_script


@pytest.fixture
def opened(monkeypatch):
    """What the app would be opened on: (target, options), instead of opening it."""
    calls = []
    monkeypatch.setattr("backprop_studio.gui.app.run_app", lambda target, args: calls.append((target, args)) or 0)
    return calls


@pytest.mark.parametrize("argv", [
    ["--presentation", "--theme", "dark", "lesson", "while_doubling"],
    ["lesson", "while_doubling", "--presentation", "--theme", "dark"],
    ["--theme=dark", "lesson", "--presentation", "while_doubling"],
])
def test_app_options_before_or_after_lesson(opened, argv):
    assert cli_main.main(argv) == 0
    ((target, args),) = opened
    assert (target["mode"], target["lesson"]) == ("lesson", "while_doubling")
    assert args.presentation and args.theme == "dark"


def test_app_options_before_open(opened, tmp_path):
    bps = str(tmp_path / "run.bps")
    loss_only_recording(bps)
    assert cli_main.main(["--lang", "zh", "--screenshot", "open", "open", bps]) == 0  # a value may be a word
    ((target, args),) = opened
    assert target == {"mode": "open", "recording": bps}
    assert args.lang == "zh" and args.screenshot == "open"


def test_a_script_named_after_the_options_keeps_its_arguments(opened, tmp_path):
    script = write_script(tmp_path, "print('hi')\n")
    assert cli_main.main(["--run", script, "lesson", "--lr", "0.1"]) == 0
    ((target, args),) = opened
    assert (target["mode"], target["script"], target["args"]) == ("script", script, ["lesson", "--lr", "0.1"])
    assert args.run


def test_app_options_before_another_subcommand_say_where_they_go(opened, capsys):
    assert cli_main.main(["--presentation", "record", "-o", "x.bps", "train.py"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "--presentation: options of the app, not of `record`" in err
    assert "backprop-studio record [OPTIONS]" in err
    assert not opened
