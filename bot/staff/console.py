"""Staff console: chat with the running assistant and see why it said what it said.

``make shell`` (``python -m bot.staff.console [--explain] [--url URL]``) talks to the
assistant that ``make run`` started, through the same REST channel families'
messages take, as a fresh conversation (a random sender id) each time it starts.
It does not start the assistant: if Rasa does not answer, it says to run
``make run`` in another terminal, so the console is ready in a second and a
staff member sees exactly the running assistant, not a copy.

Each reply is printed plainly: the text, the source as one line, and any buttons
as numbered choices. Typing a choice's number sends that button; typing
anything else is a new question (no menu takes over the keyboard).

With ``--explain`` (or the ``/explain`` command, which toggles it) each reply is
followed by why it was given, all read from the assistant itself, never
recomputed:

- the intent ranking with confidences and the crisis check's verdict (kind,
  layer, evidence, score), from the user message's parse data in Rasa's tracker
  (``GET /conversations/{id}/tracker``; Rasa's HTTP API is on, on loopback and
  with a token, see :func:`bot.stack.api_token`);
- the actions Rasa ran for it, from the same tracker;
- the candidate passages with their scores and sources, the decline threshold,
  the decision and the contact entries used, from the ``explanation`` the
  knowledge action puts in the reply's custom data (the evidence of
  :func:`bot.knowledge.answers.answer`).

Input comes through prompt_toolkit (line editing, Up for earlier questions)
when the console runs in a terminal, and plain lines otherwise (a pipe); output
goes through rich. Commands: ``/explain``, ``/new`` (a new conversation),
``/help``, ``/quit`` (or Ctrl-D).

About 460 lines, over the house's 300: the reply printing, the explanation and
the input loop are one screen's behaviour and are tested through it.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from rich.console import Console
from rich.table import Table
from rich.text import Text

PROMPT = "you> "
HELP = (
    "Type a question and press Enter. When a reply offers numbered choices, type a "
    "number to choose one, or just type your next question.\n"
    "Commands: /explain (show or hide why each reply was given), /new (start a new "
    "conversation), /help, /quit (or Ctrl-D)."
)
MAX_CANDIDATES = 5
MAX_INTENTS = 5


@dataclass
class Rendered:
    """A reply turned into lines to print, and what the person can do next."""

    lines: list[Text] = field(default_factory=list)
    buttons: list[dict[str, str]] = field(default_factory=list)
    explanations: list[dict[str, Any]] = field(default_factory=list)


def render_reply(messages: Sequence[dict[str, Any]]) -> Rendered:
    """Turn the REST channel's messages for one turn into printable lines.

    Texts are printed as they are (never as rich markup), a text starting with
    ``Source:`` as a source line, buttons as numbered choices (numbered across
    the whole reply); custom data is never dumped: its ``explanation`` is kept
    for :func:`render_explanation`.

    Args:
        messages: The JSON list ``POST /webhooks/rest/webhook`` returned.

    Returns:
        The lines, the buttons in the order they are numbered, and the
        explanations found in custom data.
    """
    out = Rendered()
    if not messages:
        out.lines.append(Text("(no reply)", style="dim"))
    for message in messages:
        text = message.get("text")
        if text:
            if text.startswith("Source:"):
                line = Text("  ")
                line.append("Source:", style="bold cyan")
                line.append(text[len("Source:") :], style="cyan")
                out.lines.append(line)
            else:
                out.lines.append(Text(text))
        for button in message.get("buttons") or []:
            out.buttons.append(button)
            line = Text(f"  {len(out.buttons)}. ", style="bold")
            line.append(str(button.get("title") or button.get("payload") or ""))
            out.lines.append(line)
        if message.get("image"):
            out.lines.append(Text(f"  [image: {message['image']}]", style="dim"))
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("explanation"), dict):
            out.explanations.append(custom["explanation"])
    if out.buttons:
        out.lines.append(Text("  (type a number to choose, or ask something else)", style="dim"))
    return out


@dataclass
class TrackerTurn:
    """What Rasa's tracker says about the latest message."""

    parse: dict[str, Any] | None
    actions: list[str]
    error: str = ""


def latest_turn(tracker: dict[str, Any]) -> TrackerTurn:
    """The last user message's parse data and the actions run after it."""
    events = tracker.get("events") or []
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=None)
    if last_user is None:
        return TrackerTurn(None, [], "no user message in the tracker")
    actions = [
        e.get("name")
        for e in events[last_user + 1 :]
        if e.get("event") == "action" and e.get("name") != "action_listen"
    ]
    return TrackerTurn(events[last_user].get("parse_data") or {}, actions)


def _intent_lines(turn: TrackerTurn) -> list[Text]:
    if turn.parse is None:
        return [Text(f"intent ranking: not available ({turn.error})", style="yellow")]
    intent = turn.parse.get("intent") or {}
    ranking = turn.parse.get("intent_ranking") or ([intent] if intent else [])
    line = Text("intent: ", style="bold")
    line.append(f"{intent.get('name')} {float(intent.get('confidence') or 0):.2f}")
    others = [r for r in ranking if r.get("name") != intent.get("name")]
    others = others[: MAX_INTENTS - 1]
    if others:
        line.append(
            "   then "
            + ", ".join(f"{r.get('name')} {float(r.get('confidence') or 0):.2f}" for r in others),
            style="dim",
        )
    return [line]


def _safety_lines(turn: TrackerTurn) -> list[Text]:
    if turn.parse is None:
        return []
    safety = turn.parse.get("safety")
    line = Text("crisis check: ", style="bold")
    if not isinstance(safety, dict):
        line.append("not run on this message (a button or a command)", style="dim")
        return [line]
    kind = safety.get("kind") or "none"
    score = safety.get("score")
    if kind == "none":
        line.append(f"did not fire (score {score})")
    else:
        line.append(f"FIRED: {kind}", style="bold red")
        line.append(
            f" by the {safety.get('layer') or '?'} layer, score {score}; "
            f"evidence: {safety.get('evidence')}"
        )
    return [line]


def _candidate_table(explanation: dict[str, Any]) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold dim")
    for name in (
        "#",
        "article > heading",
        "score",
        "dense",
        "question",
        "bm25",
        "matched question",
    ):
        table.add_column(
            name,
            overflow="fold",
            justify="right" if name in ("#", "score", "dense", "question", "bm25") else "left",
        )
    for rank, c in enumerate((explanation.get("candidates") or [])[:MAX_CANDIDATES], 1):
        features = c.get("features") or {}
        table.add_row(
            str(rank),
            f"{c.get('article')} > {c.get('heading')}",
            _num(c.get("score")),
            _num(c.get("dense")),
            _num(c.get("question")),
            _num(features.get("bm25", c.get("bm25"))),
            str(c.get("matched_question") or ""),
        )
    return table


def _num(value: Any) -> str:
    return "" if value is None else f"{float(value):.3f}"


def render_explanation(explanations: Sequence[dict[str, Any]], turn: TrackerTurn) -> list[Any]:
    """Why the reply was given: intents, crisis check, actions, passages, contacts.

    Args:
        explanations: The ``explanation`` objects from the reply's custom data.
        turn: The latest message as the tracker records it.

    Returns:
        Rich renderables (lines and tables), to print in order.
    """
    out: list[Any] = [Text("why:", style="bold magenta")]
    out += _intent_lines(turn) + _safety_lines(turn)
    if turn.parse is not None:
        ran = ", ".join(turn.actions) or "none"
        out.append(Text("actions: ", style="bold") + Text(ran))
    if not explanations:
        out.append(
            Text(
                "knowledge: not searched for this reply (it is a fixed "
                "response or a dialogue step)",
                style="dim",
            )
        )
    for explanation in explanations:
        kind = explanation.get("kind")
        line = Text("knowledge: ", style="bold")
        threshold = explanation.get("decline_below")
        best = explanation.get("best_similarity")
        if kind == "declined":
            line.append("DECLINED", style="bold yellow")
            line.append(f" ({explanation.get('reason', '')})")
        elif kind == "contact":
            line.append("answered from knowledge/contacts.yml")
        else:
            line.append("answered from the first passage below")
        if threshold is not None:
            line.append(f"; best similarity {best} against the decline threshold {threshold}")
        pipeline = explanation.get("pipeline")
        if pipeline:
            line.append(f"; pipeline {pipeline}", style="dim")
        out.append(line)
        if explanation.get("candidates"):
            out.append(_candidate_table(explanation))
        nearest = explanation.get("not_covered") or {}
        if nearest.get("subject"):  # knowledge/not_covered.yml
            out.append(
                Text("nearest subject no article covers: ", style="bold")
                + Text(
                    f"{nearest['subject']} ({nearest.get('similarity')}, "
                    f"like {nearest.get('question', '')!r})"
                )
            )
        if "contacts" in explanation:
            used = ", ".join(explanation.get("contacts") or []) or "none"
            out.append(Text("contacts used: ", style="bold") + Text(used))
        else:
            out.append(Text("contacts used: none", style="dim"))
    return out


class Client:
    """The running assistant, over its REST channel and HTTP API."""

    def __init__(
        self,
        rasa_url: str,
        token: str | None = None,
        sender: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.sender = sender or new_sender()

    def reachable(self) -> bool:
        """Whether Rasa answers at all."""
        try:
            return requests.get(self.rasa_url + "/", timeout=3).ok
        except requests.RequestException:
            return False

    def send(self, message: str) -> list[dict[str, Any]]:
        """One message through the REST channel; the bot's messages."""
        reply = requests.post(
            self.rasa_url + "/webhooks/rest/webhook",
            json={"sender": self.sender, "message": message},
            timeout=self.timeout,
        )
        if not reply.ok:
            try:
                error = reply.json().get("error")
            except ValueError:
                error = None
            return [{"text": f"(Rasa answered {reply.status_code}: {error or reply.text[:200]})"}]
        return reply.json()

    def latest_turn(self) -> TrackerTurn:
        """The tracker's view of the latest message, or why it is not available."""
        params = {"token": self.token} if self.token else {}
        try:
            reply = requests.get(
                f"{self.rasa_url}/conversations/{self.sender}/tracker",
                params=params,
                timeout=self.timeout,
            )
        except requests.RequestException as err:
            return TrackerTurn(None, [], f"tracker unreachable: {err.__class__.__name__}")
        if reply.status_code in (401, 403):
            return TrackerTurn(None, [], "Rasa's HTTP API refused the token; restart with make run")
        if not reply.ok:
            return TrackerTurn(
                None,
                [],
                f"Rasa's HTTP API answered {reply.status_code}; "
                "make run starts Rasa with --enable-api",
            )
        return latest_turn(reply.json())


def new_sender() -> str:
    """A fresh conversation id, so every console start is a new conversation."""
    return "staff-" + uuid.uuid4().hex[:12]


class Session:
    """One console session: read a line, send it, print the reply."""

    def __init__(self, client: Client, console: Console, explain: bool = False) -> None:
        self.client = client
        self.console = console
        self.explain = explain
        self.buttons: list[dict[str, str]] = []

    def handle(self, line: str) -> bool:
        """Act on one line typed; False when the person wants to stop."""
        line = line.strip()
        if not line:
            return True
        command = line.lower()
        if command in ("/quit", "/exit", "/q"):
            return False
        if command == "/help":
            self.console.print(Text(HELP))
            return True
        if command == "/explain":
            self.explain = not self.explain
            self.console.print(
                Text(f"Explanations {'on' if self.explain else 'off'}.", style="dim")
            )
            return True
        if command == "/new":
            self.client.sender = new_sender()
            self.buttons = []
            self.console.print(Text(f"New conversation {self.client.sender}.", style="dim"))
            return True
        message = line
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            button = self.buttons[int(line) - 1]
            message = button.get("payload") or button.get("title") or line
            self.console.print(Text(f"(chose: {button.get('title')})", style="dim"))
        try:
            messages = self.client.send(message)
        except requests.RequestException as err:
            self.console.print(
                Text(
                    f"Could not reach the assistant at {self.client.rasa_url} "
                    f"({err.__class__.__name__}). Is make run still running?",
                    style="red",
                )
            )
            return True
        rendered = render_reply(messages)
        self.buttons = rendered.buttons
        for item in rendered.lines:
            self.console.print(item)
        if self.explain:
            for item in render_explanation(rendered.explanations, self.client.latest_turn()):
                self.console.print(item)
        self.console.print()
        return True

    def run(self, lines: Iterable[str]) -> None:
        """Handle lines until they run out or the person quits."""
        for line in lines:
            if not self.handle(line):
                break


def _terminal_lines(console: Console) -> Iterable[str]:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import InMemoryHistory

    prompt: PromptSession[str] = PromptSession(history=InMemoryHistory())
    while True:
        try:
            yield prompt.prompt(PROMPT)
        except KeyboardInterrupt:
            continue  # Ctrl-C clears the line, as in a shell
        except EOFError:
            return


def _piped_lines(console: Console, stream=None) -> Iterable[str]:
    stream = stream or sys.stdin
    while True:
        console.print(Text(PROMPT), end="")
        console.file.flush()
        line = stream.readline()
        if not line:
            console.print()
            return
        console.print(Text(line.rstrip("\n")))
        yield line


def main(
    argv: Sequence[str] | None = None, read_lines: Callable[[Console], Iterable[str]] | None = None
) -> int:
    """Command line: ``python -m bot.staff.console [--explain] [--url URL]``."""
    from bot.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="python -m bot.staff.console",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--explain", action="store_true", help="after each reply, show why it was given"
    )
    parser.add_argument(
        "--url", default=settings.rasa_url, help=f"the Rasa server (default {settings.rasa_url})"
    )
    args = parser.parse_args(argv)
    console = Console(highlight=False)
    from bot.stack.prepare import read_api_token

    client = Client(args.url, token=read_api_token(settings))
    if not client.reachable():
        console.print(
            Text(
                f"The assistant is not running at {client.rasa_url}.\n"
                'Start it in another terminal with `make run`, wait for "Ready", '
                "then run `make shell` again.",
                style="red",
            )
        )
        return 1
    console.print(Text("SEN Support assistant, staff console", style="bold"))
    console.print(
        Text(
            f"Talking to {client.rasa_url} as a new conversation ({client.sender}). " + HELP,
            style="dim",
        )
    )
    if args.explain:
        console.print(Text("Explanations on.", style="dim"))
    console.print()
    session = Session(client, console, explain=args.explain)
    if read_lines is None:
        read_lines = _terminal_lines if sys.stdin.isatty() and sys.stdout.isatty() else _piped_lines
    session.run(read_lines(console))
    return 0


if __name__ == "__main__":
    sys.exit(main())
