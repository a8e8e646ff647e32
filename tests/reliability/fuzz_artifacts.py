"""Hypothesis strategies for malformed submission artifacts, for `test_validator_fuzz.py`.

Every strategy draws through `st.DataObject`, so that an example is one list of choices Hypothesis can shrink:
random bytes, truncated or edited copies of a valid baseline (byte, CSV-line and JSON-tree edits), wrong
types, huge numbers, NaN, odd Unicode and encodings, nested junk; for directory artifacts, edited copies of a
baseline folder (files removed, renamed, added, nested, wrapped, replaced by folders, links or FIFOs) and
random folder layouts with names that are not even valid UTF-8.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from evaluators import get_evaluator
from evaluators.base import Evaluator
from evaluators.demo import demo_module
from evaluators.taskdir import load_task_dir

MAX_OPS = 3

JUNK_CELLS = [
    "",
    " ",
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "1e999",
    "-1e999",
    "1e-400",
    "-0",
    "+1",
    "-1",
    "0x1F",
    "1_000",
    "1,5",
    "١٢٣",
    "\U0001d7d9",
    "1.0",
    "17.0",
    "true",
    "null",
    "None",
    "[]",
    "{}",
    '"',
    "'",
    '""',
    "\t",
    "\x00",
    "\x1b[31m",
    "=1+1",
    "../../etc/passwd",
    "/abs/x.png",
    "C:\\x.png",
    "a" * 300,
    "9" * 5000,
    "\ufeff",
    "\u202e",
    "é",
    "ß",
    "img.png",
    "x/../y.png",
    "dir/",
    "id",
    "item,label",
    "ImageID",
]
JUNK_DOCUMENTS = [
    "[" * 20000 + "]" * 20000,
    '{"a": ' * 5000 + "1" + "}" * 5000,
    "1" * 5000,
    '{"x": ' + "9" * 5000 + "}",
    "NaN",
    "[Infinity, -Infinity, NaN]",
    '{"": null}',
    "\ufeff{}",
    "---\n- !!python/object:os.system ls\n",
    "a: &x [*x]\n",
    "\x00" * 64,
    "\r\n" * 50,
    ",,,,\n,,,,\n",
    '"unterminated\n',
]
SPECIAL_NAMES = [
    ".DS_Store",
    "__MACOSX",
    "Thumbs.db",
    "desktop.ini",
    "._x.csv",
    "time_run.txt",
    "labels.csv",
    "features.csv",
    "images",
    "a b.csv",
    "x" * 200 + ".csv",
    "UPPER.CSV",
    "no-extension",
    "-",
    "~",
    "@eaDir",
    " leading.csv",
]

SURROGATES = st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=3)
JSON_STRINGS = st.one_of(st.text(max_size=20), st.sampled_from(JUNK_CELLS), SURROGATES)
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**18, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    JSON_STRINGS,
)
JSON_TREES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(JSON_STRINGS, inner, max_size=4),
    max_leaves=12,
)
CELLS = st.one_of(
    st.sampled_from(JUNK_CELLS),
    st.text(max_size=20),
    st.integers().map(str),
    st.floats().map(repr),
    st.integers(min_value=10**18, max_value=10**60).map(str),
)
NEWLINES = st.sampled_from(["\n", "\r\n", "\r"])


def name_strategy(known: list[str]) -> st.SearchStrategy[str]:
    """File and folder names: known good names and their case or extension variants, special ones, random
    text, and names that are not valid UTF-8 (bytes decoded with surrogateescape, as `os.listdir` gives)."""
    variants = {name.swapcase() for name in known} | {_swap_extension(name) for name in known}
    text = st.text(alphabet=st.characters(blacklist_characters="/\x00", blacklist_categories=["Cs"]), max_size=20)
    raw = st.binary(min_size=1, max_size=20).map(lambda b: os.fsdecode(b.replace(b"/", b"_").replace(b"\x00", b"_")))
    # Random names that keep a known prefix or extension, so that they reach the rules about names.
    prefixes = sorted({name.split("_")[0].split(".")[0] + sep for name in known for sep in ("_", ".")}) or ["x"]
    extensions = sorted({"." + name.rpartition(".")[2] for name in known if "." in name} | {".png", ".csv"})
    names = st.one_of(
        st.sampled_from(sorted(known) or ["x"]),
        st.sampled_from(sorted(variants | set(SPECIAL_NAMES))),
        text,
        raw,
        st.tuples(st.sampled_from(prefixes), text | raw, st.sampled_from(extensions)).map("".join),
        st.tuples(text | raw, st.sampled_from(extensions)).map("".join),
    )
    return names.filter(lambda name: name not in {"", ".", ".."} and len(os.fsencode(name)) <= 255)


def _swap_extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    swapped = {"csv": "json", "json": "csv", "txt": "csv", "png": "txt"}.get(ext.lower(), "csv")
    return f"{stem}.{swapped}" if dot else f"{name}.csv"


def _encoded(data: st.DataObject, text: str) -> bytes:
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")


# --- whole documents -----------------------------------------------------------------------------------------


def _junk_text(data: st.DataObject) -> str:
    kind = data.draw(st.sampled_from(["text", "surrogates", "document", "json", "yaml", "csv"]), label="junk")
    if kind == "text":
        return data.draw(st.text(max_size=300))
    if kind == "surrogates":
        return data.draw(st.text(max_size=20)) + data.draw(SURROGATES) + data.draw(st.text(max_size=20))
    if kind == "document":
        return data.draw(st.sampled_from(JUNK_DOCUMENTS))
    tree = data.draw(JSON_TREES)
    if kind == "json":
        return json.dumps(tree, allow_nan=True, ensure_ascii=data.draw(st.booleans()))
    if kind == "yaml":
        return yaml.safe_dump(tree, allow_unicode=True)
    rows = data.draw(st.lists(st.lists(CELLS, min_size=1, max_size=5), max_size=8))
    return data.draw(NEWLINES).join(",".join(row) for row in rows)


# --- edits of a valid file -----------------------------------------------------------------------------------


def _byte_edit(data: st.DataObject, original: bytes) -> bytes:
    content = original
    for _ in range(data.draw(st.integers(1, MAX_OPS))):
        at = data.draw(st.integers(0, len(content)))
        op = data.draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
        if op == "truncate":
            content = content[:at]
        elif op == "flip" and at < len(content):
            content = content[:at] + bytes([content[at] ^ data.draw(st.integers(1, 255))]) + content[at + 1 :]
        elif op == "insert":
            content = content[:at] + data.draw(st.binary(min_size=1, max_size=16)) + content[at:]
        else:
            content = content[:at] + content[at + data.draw(st.integers(1, 64)) :]
    return content


def _csv_edit(data: st.DataObject, text: str) -> str:
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(1, MAX_OPS))):
        lines = lines or [""]
        index = data.draw(st.integers(0, max(len(lines) - 1, 0)))
        op = data.draw(
            st.sampled_from(
                ["cell", "cell", "delete", "duplicate", "insert", "swap", "widen", "narrow", "blank", "quote", "header"]
            )
        )
        cells = lines[index].split(",") if lines else [""]
        if op == "cell":
            cells[data.draw(st.integers(0, len(cells) - 1))] = data.draw(CELLS)
            lines[index] = ",".join(cells)
        elif op == "delete" and lines:
            del lines[index]
        elif op == "duplicate" and lines:
            lines.insert(data.draw(st.integers(0, len(lines))), lines[index])
        elif op == "insert":
            row = data.draw(st.lists(CELLS, min_size=1, max_size=5))
            lines.insert(index, ",".join(row))
        elif op == "swap" and len(lines) > 1:
            other = data.draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        elif op == "widen":
            lines[index] = ",".join([*cells, data.draw(CELLS)])
        elif op == "narrow" and len(cells) > 1:
            lines[index] = ",".join(cells[:-1])
        elif op == "blank":
            lines.insert(index, data.draw(st.sampled_from(["", " ", ",", "\t"])))
        elif op == "quote":
            lines[index] = data.draw(st.sampled_from(['"', "'", '""'])) + lines[index]
        elif lines:
            lines[0] = ",".join(data.draw(st.lists(CELLS, min_size=1, max_size=4)))
    ending = data.draw(st.sampled_from(["", "\n", "\n\n"]))
    return data.draw(NEWLINES).join(lines) + ending


class DuplicateKeys(list[tuple[str, Any]]):
    """A JSON object written with a repeated key."""


def _dumps(value: Any) -> str:
    if isinstance(value, DuplicateKeys):
        return "{" + ", ".join(f"{json.dumps(key)}: {_dumps(item)}" for key, item in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(key))}: {_dumps(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dumps(item) for item in value) + "]"
    return json.dumps(value, allow_nan=True)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:50]):  # the first entries are enough to reach every shape
            found += _paths(item, (*prefix, index))
    return found


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    _at(document, path[:-1])[path[-1]] = value
    return document


def _json_edit(data: st.DataObject, document: Any) -> str:
    for _ in range(data.draw(st.integers(1, MAX_OPS))):
        op = data.draw(st.sampled_from(["replace", "replace", "delete", "add", "duplicate"]))
        if op == "duplicate":
            objects = [path for path in _paths(document) if isinstance(_at(document, path), dict)]
            if objects:
                path = data.draw(st.sampled_from(objects))
                items = list(_at(document, path).items())
                repeat_first: bool = bool(items) and data.draw(st.booleans())
                key: str = items[0][0] if repeat_first else data.draw(JSON_STRINGS)
                document = _replaced(document, path, DuplicateKeys([*items, (key, data.draw(JSON_TREES))]))
                break  # a DuplicateKeys is no longer edited
            continue
        path = data.draw(st.sampled_from(_paths(document)))
        if op == "replace" or not path:
            document = _replaced(document, path, data.draw(JSON_TREES))
        elif op == "delete":
            del _at(document, path[:-1])[path[-1]]
        elif isinstance(parent := _at(document, path[:-1]), dict):
            parent[data.draw(JSON_STRINGS)] = data.draw(JSON_TREES)
        else:
            parent.insert(path[-1], data.draw(JSON_TREES))
    return _dumps(document)


def file_content(data: st.DataObject, original: bytes | None) -> bytes:
    """A malformed (or, by chance, still valid) file: junk, or an edit of `original` when given."""
    kinds = ["random-bytes", "empty", "junk"]
    if original is not None:
        kinds += ["truncate", "bytes", "csv", "csv", "json", "json", "encoding"]
    kind = data.draw(st.sampled_from(kinds), label="content")
    if kind == "random-bytes":
        return data.draw(st.binary(max_size=512))
    if kind == "empty":
        return b""
    if kind == "junk" or original is None:
        return _encoded(data, _junk_text(data))
    if kind == "truncate":
        return original[: data.draw(st.integers(0, max(len(original) - 1, 0)))]
    if kind == "bytes":
        return _byte_edit(data, original)
    text = original.decode("utf-8", "replace")
    if kind == "encoding":
        return _encoded(data, text.replace("\n", data.draw(NEWLINES)))
    if kind == "json":
        try:
            return _encoded(data, _json_edit(data, json.loads(text)))
        except (ValueError, RecursionError):
            pass  # not a JSON file (or one an earlier edit nested too deeply to read): edit its lines instead
    return _encoded(data, _csv_edit(data, text))


# --- directories ---------------------------------------------------------------------------------------------


def _files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file() and not path.is_symlink())


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove(path)
    path.write_bytes(content)


def _random_tree(data: st.DataObject, root: Path, names: st.SearchStrategy[str], depth: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for _ in range(data.draw(st.integers(0, 4))):
        target = root / data.draw(names)
        if target.exists():
            continue
        if depth < 2 and data.draw(st.booleans()):
            _random_tree(data, target, names, depth + 1)
        else:
            target.write_bytes(file_content(data, None))


def _link_target(data: st.DataObject, root: Path) -> str:
    files = _files(root)
    choices = ["/nonexistent/x.csv", "/", "/etc/hostname", ".", "loop"]
    choices += [str(path) for path in files[:5]]
    return data.draw(st.sampled_from(choices))


# Content edits are drawn three times as often as each structural edit.
DIRECTORY_EDITS = ["content"] * 3 + ["delete", "add", "rename", "nest", "wrap", "folder", "link", "fifo", "empty"]


def _directory_edit(data: st.DataObject, root: Path, names: st.SearchStrategy[str]) -> None:
    op = data.draw(st.sampled_from(DIRECTORY_EDITS), label="dir-op")
    files = _files(root)
    chosen = data.draw(st.sampled_from(files)) if files else None
    if op == "content" and chosen is not None:
        _write(chosen, file_content(data, chosen.read_bytes()))
    elif op == "delete" and chosen is not None:
        chosen.unlink()
    elif op == "add":
        original = chosen.read_bytes() if chosen is not None and data.draw(st.booleans()) else None
        _write(root / data.draw(names), file_content(data, original))
    elif op == "rename" and chosen is not None:
        target = chosen.with_name(data.draw(names))
        if not os.path.lexists(target):
            chosen.rename(target)
    elif op == "nest" and chosen is not None:
        # lexists: a dangling link made by an earlier edit holds the name although exists() says no.
        folder = chosen.parent / data.draw(names)
        if not os.path.lexists(folder):
            folder.mkdir()
            chosen.rename(folder / chosen.name)
    elif op == "wrap":
        inner = root / data.draw(names)
        if not os.path.lexists(inner):
            entries = list(root.iterdir())
            inner.mkdir()
            for entry in entries:
                entry.rename(inner / entry.name)
    elif op == "folder" and chosen is not None:
        chosen.unlink()
        chosen.mkdir()
        if data.draw(st.booleans()):
            (chosen / data.draw(names)).write_bytes(file_content(data, None))
    elif op == "link":
        link = chosen if chosen is not None and data.draw(st.booleans()) else root / data.draw(names)
        pointee = _link_target(data, root)
        _remove(link)
        link.symlink_to(link if pointee == "loop" else pointee)
    elif op == "fifo":
        fifo = chosen if chosen is not None else root / data.draw(names)
        _remove(fifo)
        os.mkfifo(fifo)
    elif op == "empty" and chosen is not None:
        chosen.write_bytes(b"")


def build_directory(data: st.DataObject, target: Path, baselines: list[Path], names: st.SearchStrategy[str]) -> None:
    """A malformed directory artifact at `target` (or a file where a directory is expected)."""
    kind = data.draw(st.sampled_from(["baseline", "baseline", "baseline", "random", "empty", "file"]), label="dir")
    if kind == "file":
        target.write_bytes(file_content(data, None))
    elif kind == "empty":
        target.mkdir()
    elif kind == "random":
        _random_tree(data, target, names, 0)
    else:
        shutil.copytree(data.draw(st.sampled_from(baselines)), target, symlinks=True)
        for _ in range(data.draw(st.integers(1, MAX_OPS))):
            _directory_edit(data, target, names)


def build_file(data: st.DataObject, target: Path, baselines: list[Path], names: st.SearchStrategy[str]) -> None:
    """A malformed file artifact at `target` (or a folder where a file is expected)."""
    kind = data.draw(st.sampled_from(["baseline"] * 8 + ["junk", "folder"]), label="file")
    if kind == "folder":
        _random_tree(data, target, names, 1)
        return
    original = data.draw(st.sampled_from(baselines)).read_bytes() if kind == "baseline" else None
    target.write_bytes(file_content(data, original))


@dataclass
class Demo:
    """An evaluator's small demo task, loaded, with its baselines: what the generators start from."""

    evaluator: Evaluator[Any, Any]
    task: Any
    baselines: list[Path]
    scratch: Path
    names: st.SearchStrategy[str]
    outcomes: Counter[str] = field(default_factory=Counter)


def demo_world(slug: str, root: Path) -> Demo:
    """Generate the evaluator's first demo task (small) and its baselines under `root`, and load the task with
    the config its task.yaml holds (generate_task may complete the demo's config)."""
    evaluator = get_evaluator(slug)
    module = demo_module(evaluator)
    assert module is not None, f"{slug} has no demo module"
    module.generate_task(root / "task", config=module.DEMO_TASKS[0].config, seed=0, small=True)
    config = evaluator.validate_config(load_task_dir(root / "task").config)
    baselines = sorted(module.write_baselines(root / "task", root / "baselines", seed=0).values())
    known = sorted({path.name for baseline in baselines for path in [baseline, *baseline.rglob("*")]})
    (root / "scratch").mkdir()
    task = evaluator.load_task(root / "task", config)
    return Demo(evaluator, task, baselines, root / "scratch", name_strategy(known))
