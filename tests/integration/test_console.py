"""The staff console in a terminal, against the real assistant: three questions in a row."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

from bot.settings import REPO_ROOT
from bot.stack.prepare import child_env

pytestmark = pytest.mark.integration

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[=>]")
PROMPT = "you>"  # prompt_toolkit may draw the space with a cursor move


class Terminal:
    """A program running in a pseudo-terminal, as a staff member's tmux pane."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
        self.process = subprocess.Popen(
            command,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=REPO_ROOT,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.raw = ""

    @property
    def screen(self) -> str:
        """Everything written so far, without escape codes and carriage returns."""
        return ANSI.sub("", self.raw).replace("\r", "")

    def read_until(self, predicate, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while not predicate(self.screen):
            left = deadline - time.monotonic()
            if left <= 0 or self.process.poll() is not None:
                raise AssertionError(f"timed out; the terminal shows:\n{self.screen[-3000:]}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                with contextlib.suppress(OSError):
                    self.raw += os.read(self.master, 65536).decode("utf-8", "replace")
        return self.screen

    def type(self, text: str) -> None:
        """Type a line and press Enter, nothing else."""
        os.write(self.master, text.encode() + b"\r")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        os.close(self.master)


@pytest.fixture
def console(live_stack):
    env = child_env(
        live_stack.settings,
        {"PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm", "COLUMNS": "160", "LINES": "50"},
    )
    terminal = Terminal([sys.executable, "-m", "bot.staff.console", "--explain"], env)
    yield terminal
    terminal.close()


def answered(screen: str) -> bool:
    """The explanation is out and the prompt is back for the next question."""
    why = screen.find("why:")
    return why >= 0 and screen.rfind(PROMPT) > why


QUESTIONS = (
    "how do we ask for an EHC needs assessment?",
    "who pays for the extra help at school?",
    "what does a SENCo do?",
)


def test_three_questions_in_a_row_each_answered_and_explained(console):
    console.read_until(lambda s: s.count(PROMPT) >= 1, timeout=60)
    turns = []
    for question in QUESTIONS:
        before = len(console.screen)
        console.type(question)  # typed straight after the last reply's choices
        screen = console.read_until(lambda s, before=before: answered(s[before:]), 180)
        turns.append(screen[before:])
    for question, turn in zip(QUESTIONS, turns):
        assert question in turn
        assert "Source:" in turn
        assert "1. Yes, it helped" in turn and "2. No, it didn't" in turn
        # The explanation: intents with confidences, the crisis check, the passages
        # with their scores and the threshold that would have declined.
        assert re.search(r"intent: \w+ [01]\.\d\d", turn), turn
        assert "crisis check: did not fire" in turn
        assert "actions: action_answer_from_knowledge" in turn
        assert "answered from the first passage below" in turn
        assert re.search(r"decline threshold 0\.\d+", turn)
        assert re.search(r"^\s*1\s+[\w-]+ > .+\s\d\.\d{3}\s", turn, flags=re.M), turn
        assert "Custom json" not in turn and '"explanation"' not in turn
        assert "INFO" not in turn and "Warning" not in turn
    # The second question was typed while "Was this helpful?" was offered: it was
    # answered as a question, not taken as feedback.
    assert "Thank you for telling me" not in turns[1]
    console.type("/quit")
    console.process.wait(timeout=30)
    assert console.process.returncode == 0


def test_piped_questions_get_the_same_clean_replies(live_stack):
    env = child_env(live_stack.settings)
    done = subprocess.run(
        [sys.executable, "-m", "bot.staff.console", "--explain"],
        cwd=REPO_ROOT,
        env=env,
        input="\n".join(QUESTIONS[:2]) + "\n2\n",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.count("why:") == 3 and out.count("Source:") == 2
    assert "(chose: No, it didn't)" in out and "Sorry that didn't help" in out
    assert "Custom json" not in out and "\x1b[" not in out
