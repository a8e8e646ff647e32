"""`python -m evaluators`: score or validate a submission offline, exactly as the platform does.

Exit codes: 0 success; 2 invalid submission (message on stderr, prefixed `invalid submission: `);
3 unusable task directory or config, or unknown benchmark; 4 any other evaluator error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from evaluators.base import Evaluator, EvaluatorError, SubmissionError, TaskConfigError, no_progress
from evaluators.registry import RegistryError, UnknownEvaluatorError, available_slugs, get_evaluator
from evaluators.taskdir import load_task_dir

EXIT_OK = 0
EXIT_INVALID_SUBMISSION = 2
EXIT_BAD_TASK = 3
EXIT_EVALUATOR_ERROR = 4


@dataclass(frozen=True)
class _OpenTask:
    evaluator: Evaluator[Any, Any]
    task: Any


def _open_task(task_dir: Path) -> _OpenTask:
    """Read task.yaml, find the evaluator, validate the config and load the task's public data."""
    directory = load_task_dir(task_dir)
    evaluator = get_evaluator(directory.slug)
    config = evaluator.validate_config(directory.config)
    return _OpenTask(evaluator, evaluator.load_task(directory.path, config))


def _stderr_progress(fraction: float, message: str) -> None:
    print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)


def _score(args: argparse.Namespace) -> int:
    opened = _open_task(args.task)
    parsed = opened.evaluator.validate(opened.task, args.submission)
    result = opened.evaluator.evaluate(opened.task, parsed, _stderr_progress if args.progress else no_progress)
    output: dict[str, Any] = {"primary": result.primary, "metrics": result.metrics}
    if result.splits:
        output["splits"] = {name: score.as_dict() for name, score in result.splits.items()}
    if args.details:
        output["details"] = result.details
    # json.dumps writes floats with repr precision, so the printed value round-trips exactly.
    print(json.dumps(output, allow_nan=False))
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    opened = _open_task(args.task)
    opened.evaluator.validate(opened.task, args.submission)
    print("OK")
    return EXIT_OK


def benchmark_lines() -> list[str]:
    """One line per registered benchmark: slug, title and submission format."""
    lines = []
    for slug in available_slugs():
        try:
            evaluator = get_evaluator(slug)
        except RegistryError as exc:
            lines.append(f"{slug}: unavailable ({exc})")
            continue
        lines.append(f"{slug}: {evaluator.title}\n    submission: {evaluator.submission_format}")
    return lines


def _list(args: argparse.Namespace) -> int:
    print("\n".join(benchmark_lines()))
    return EXIT_OK


def _add_task_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", type=Path, required=True, help="task directory (holding task.yaml)")
    parser.add_argument("--submission", type=Path, required=True, help="the submission file or directory")


class _Parser(argparse.ArgumentParser):
    """Lists the benchmarks in `--help` only when asked: listing imports every registered evaluator."""

    def format_help(self) -> str:
        listing = "\n".join("  " + line for line in benchmark_lines())
        self.epilog = f"benchmarks:\n{listing}\n\n{__doc__}"
        return super().format_help()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; `--help` lists the registered benchmarks."""
    parser = _Parser(
        prog="python -m evaluators",
        description="Score or validate a DataPerf submission offline, exactly as the platform does.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{score,validate,list}")
    score = commands.add_parser("score", help="validate and score; print {'primary', 'metrics'} as JSON")
    _add_task_arguments(score)
    score.add_argument("--progress", action="store_true", help="write progress lines to stderr")
    score.add_argument("--details", action="store_true", help="also print the evaluator's details")
    score.set_defaults(handler=_score)
    validate = commands.add_parser("validate", help="only check the submission (public task files suffice)")
    _add_task_arguments(validate)
    validate.set_defaults(handler=_validate)
    commands.add_parser("list", help="list the benchmarks").set_defaults(handler=_list)
    return parser


def _fail(stream: TextIO, message: str, code: int) -> int:
    print(message, file=stream)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with `argv` (default: `sys.argv[1:]`) and return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except SubmissionError as exc:
        return _fail(sys.stderr, f"invalid submission: {exc}", EXIT_INVALID_SUBMISSION)
    except (TaskConfigError, UnknownEvaluatorError, RegistryError) as exc:
        return _fail(sys.stderr, f"task error: {exc}", EXIT_BAD_TASK)
    except EvaluatorError as exc:
        return _fail(sys.stderr, f"evaluator error: {exc}", EXIT_EVALUATOR_ERROR)
    return code
