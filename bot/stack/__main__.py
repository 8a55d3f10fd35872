"""``python -m bot.stack {run,shell,train,prepare,run-scaled}``: the command line."""

import argparse
import subprocess
import sys
from collections.abc import Sequence

from bot.settings import get_settings
from bot.stack import services
from bot.stack.prepare import prepare, train_if_needed
from bot.stack.services import run


def shell(argv: Sequence[str] = ()) -> int:
    """The staff console (:mod:`bot.staff.console`), talking to the assistant ``run`` started."""
    from bot.staff.console import main as console

    return console(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m bot.stack {run,shell,train,prepare,run-scaled}``."""
    parser = argparse.ArgumentParser(prog="python -m bot.stack", description=services.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="prepare and run all three services until Ctrl-C")
    shell_args = sub.add_parser("shell", help="the staff console (python -m bot.staff.console)")
    shell_args.add_argument("--explain", action="store_true", help="show why, per reply")
    train = sub.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument("--force", action="store_true", help="train even if up to date")
    sub.add_parser("prepare", help="build the index and train the model if needed")
    scaled = sub.add_parser(
        "run-scaled",
        help="N Rasa servers on PostgreSQL and Redis behind nginx (docs/scaling.md)",
    )
    scaled.add_argument("--rasa", type=int, default=2, help="Rasa servers (default 2)")
    scaled.add_argument("--actions", type=int, default=2, help="action servers (default 2)")
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        if args.command == "run":
            return run(settings)
        if args.command == "run-scaled":
            from bot.stack.scaled import run_scaled

            return run_scaled(settings, rasa=args.rasa, actions=args.actions)
        if args.command == "shell":
            return shell(["--explain"] if args.explain else [])
        if args.command == "train":
            settings.var_dir.mkdir(parents=True, exist_ok=True)
            train_if_needed(settings, force=args.force)
            return 0
        prepare(settings)
        return 0
    except subprocess.CalledProcessError as err:
        print(f"Failed: {' '.join(map(str, err.cmd))} (exit {err.returncode})", file=sys.stderr)
        return err.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
