"""The `dataperf` command: argument parsing and error reporting. See `dataperf --help`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dataperf_cli import __version__, commands
from dataperf_cli.errors import EXIT_CODES_HELP, EXIT_ERROR, CliError
from evaluators import cli as evaluators_cli

DESCRIPTION = """The DataPerf participant command line: log in with an API token (created on the platform's
account page, /accounts/tokens/), download a task's public data, submit, follow the evaluation, select your
final submissions or withdraw one, read the leaderboards, follow a data ratchet's rounds and validate its items,
and score offline exactly as the platform does."""


def _task_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("challenge", help="the challenge's slug (see `dataperf challenges`)")
    parser.add_argument("task", help="the task's slug (see `dataperf tasks CHALLENGE`)")


def _wait_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true", help="follow the evaluation until it ends")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between status checks (default 1)")


def _account_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    login = sub.add_parser("login", help="check and store the platform URL and your API token")
    login.add_argument("--url", help="the platform's URL (default: $DATAPERF_URL, else asked)")
    login.add_argument("--token", help="an API token (default: $DATAPERF_TOKEN, else asked without echo)")
    login.set_defaults(handler=commands.login)
    sub.add_parser("logout", help="remove the stored token").set_defaults(handler=commands.logout)


def _browse_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("challenges", help="list the challenges").set_defaults(handler=commands.challenges)
    tasks = sub.add_parser("tasks", help="list a challenge's tasks")
    tasks.add_argument("challenge")
    tasks.set_defaults(handler=commands.tasks)
    download = sub.add_parser("download", help="download a task's public files (verified, resumable)")
    _task_arguments(download)
    download.add_argument("--dest", help="the task directory to fill (default: ./TASK)")
    download.set_defaults(handler=commands.download)
    board = sub.add_parser("leaderboard", help="a task's leaderboard as a table")
    _task_arguments(board)
    board.add_argument("--division", help="the division's slug (default: the task's first)")
    board.add_argument(
        "--split",
        choices=["public", "private", "concealed"],
        default="public",
        help="private: the final ranking on held-out data, once revealed (with each team's public rank)",
    )
    board.add_argument("--json", action="store_true", help="print the API's JSON instead of a table")
    board.set_defaults(handler=commands.leaderboard)


def _submission_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    submit = sub.add_parser("submit", help="upload a submission (then --wait to follow its evaluation)")
    _task_arguments(submit)
    submit.add_argument("file", help="the submission file (a zip or tar.gz for directory artifacts)")
    submit.add_argument("--division", help="the division's slug (default: the task's first)")
    submit.add_argument("--description", help="how you made this submission (required by the platform)")
    submit.add_argument("--code-archive", help="closed division: the code that made it (zip or tar.gz)")
    submit.add_argument("--code-url", help="where the code is published")
    _wait_arguments(submit)
    submit.set_defaults(handler=commands.submit)
    status = sub.add_parser("status", help="a submission's state, progress, message and metrics")
    status.add_argument("id", type=int)
    _wait_arguments(status)
    status.set_defaults(handler=commands.status)
    mine = sub.add_parser("submissions", help="your teams' submissions")
    mine.add_argument("--challenge")
    mine.add_argument("--task", help="needs --challenge")
    mine.add_argument("--limit", type=int, default=50)
    mine.set_defaults(handler=commands.submissions)
    sub.add_parser(
        "score",
        add_help=False,
        help="score offline, exactly as `python -m evaluators score` (--task DIR --submission PATH)",
    )


def _choice_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    select = sub.add_parser(
        "select", help="select a submission as one of your team's final ones for its task and division"
    )
    select.add_argument("id", type=int)
    select.add_argument("--clear", action="store_true", help="clear the selection instead")
    select.set_defaults(handler=commands.select)
    withdraw = sub.add_parser("withdraw", help="withdraw a submission for good (no undo, no quota refund)")
    withdraw.add_argument("id", type=int)
    withdraw.add_argument("--yes", action="store_true", help="confirm: a withdrawal cannot be undone")
    withdraw.set_defaults(handler=commands.withdraw)


def _ratchet_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rounds = sub.add_parser("rounds", help="a challenge's ratchets and their rounds as a table")
    rounds.add_argument("challenge", help="the challenge's slug (see `dataperf challenges`)")
    rounds.add_argument("--json", action="store_true", help="print the API's JSON of each ratchet instead")
    rounds.set_defaults(handler=commands.rounds)
    validate = sub.add_parser(
        "validate",
        help="validate a ratchet's new test items: one at a time (interactive), or one answer (--item, --verdict)",
    )
    validate.add_argument("challenge", help="the challenge's slug")
    validate.add_argument("ratchet", help="the ratchet's slug (see `dataperf rounds CHALLENGE`)")
    validate.add_argument("--item", type=int, help="answer this item (its id) and stop")
    validate.add_argument("--verdict", choices=["correct", "incorrect", "flag"], help="the answer on --item")
    validate.add_argument("--label", help="incorrect: the right label")
    validate.add_argument("--reason", help="flag: why it is not a valid item")
    validate.set_defaults(handler=commands.validate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dataperf",
        description=DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dataperf {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _account_commands(sub)
    _browse_commands(sub)
    _submission_commands(sub)
    _choice_commands(sub)
    _ratchet_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `dataperf` with `argv` (default: the process's arguments) and return the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["score"]:
        # The offline evaluator's own command line, unchanged: same options, output and exit codes.
        return evaluators_cli.main(["score", *arguments[1:]])
    args = build_parser().parse_args(arguments)
    try:
        code: int = args.handler(args)
    except CliError as error:
        print(f"dataperf: {error.message}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("dataperf: interrupted", file=sys.stderr)
        return EXIT_ERROR
    return code
