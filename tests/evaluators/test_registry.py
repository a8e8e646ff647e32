"""The evaluator registry: built-ins, entry points, host-configured paths and start-up checks."""

from __future__ import annotations

import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from evaluators import EvaluatorError, UnknownEvaluatorError, available_slugs, check_registry, get_evaluator
from evaluators.registry import ENTRY_POINT_GROUP, RegistryError, configure, load_evaluator_class
from evaluators.selection_speech.evaluator import SelectionSpeechEvaluator

SPEECH_PATH = "evaluators.selection_speech.evaluator:SelectionSpeechEvaluator"

PLUGIN_SOURCE = textwrap.dedent(
    '''
    from __future__ import annotations

    from evaluators.selection_speech.evaluator import SelectionSpeechEvaluator


    class EchoEvaluator(SelectionSpeechEvaluator):
        """A stand-in plug-in: the speech evaluator under another slug."""

        slug = "echo"
        title = "Echo"


    class NotAnEvaluator:
        slug = "not-an-evaluator"
    '''
)


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reset_registry: None) -> str:
    """The name of an importable module holding a plug-in evaluator (and a class that is not one)."""
    (tmp_path / "dataperf_test_plugin.py").write_text(PLUGIN_SOURCE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "dataperf_test_plugin"


def _fake_entry_points(*entries: tuple[str, str]) -> object:
    points = [metadata.EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP) for name, value in entries]

    def entry_points(group: str) -> list[metadata.EntryPoint]:
        return points if group == ENTRY_POINT_GROUP else []

    return entry_points


def test_it_lists_the_builtin_benchmark(reset_registry: None) -> None:
    assert "selection-speech" in available_slugs()
    assert available_slugs() == sorted(available_slugs())


def test_it_returns_one_shared_instance_per_slug(reset_registry: None) -> None:
    evaluator = get_evaluator("selection-speech")
    assert isinstance(evaluator, SelectionSpeechEvaluator)
    assert get_evaluator("selection-speech") is evaluator


def test_an_unknown_slug_raises_a_key_error_listing_the_known_slugs(reset_registry: None) -> None:
    with pytest.raises(UnknownEvaluatorError) as raised:
        get_evaluator("selection-smell")
    assert isinstance(raised.value, KeyError)
    assert isinstance(raised.value, EvaluatorError)
    assert "selection-smell" in str(raised.value)
    assert "selection-speech" in str(raised.value)


def test_the_builtins_pass_the_start_up_check(reset_registry: None) -> None:
    assert check_registry() == []


def test_it_flags_a_configured_path_that_cannot_be_imported(reset_registry: None) -> None:
    configure(["no_such_package.evaluator:Missing"])
    problems = check_registry()
    assert len(problems) == 1
    assert "no_such_package.evaluator:Missing" in problems[0]
    assert "cannot import" in problems[0]


def test_it_flags_a_path_that_is_not_a_dotted_path(reset_registry: None) -> None:
    configure(["justaname"])
    assert any("is not a dotted path" in problem for problem in check_registry())


def test_it_flags_a_class_that_is_not_an_evaluator(plugin_module: str) -> None:
    configure([f"{plugin_module}:NotAnEvaluator"])
    problems = check_registry()
    assert any("is not a subclass of evaluators.base.Evaluator" in problem for problem in problems)
    assert "not-an-evaluator" not in available_slugs()


def test_it_flags_a_missing_attribute_of_the_module(plugin_module: str) -> None:
    configure([f"{plugin_module}:Nothing"])
    assert any("has no attribute 'Nothing'" in problem for problem in check_registry())


def test_it_flags_a_slug_registered_twice(reset_registry: None) -> None:
    configure([SPEECH_PATH])
    problems = check_registry()
    assert len(problems) == 1
    assert "'selection-speech' is registered twice" in problems[0]
    assert isinstance(get_evaluator("selection-speech"), SelectionSpeechEvaluator)


def test_a_configured_path_adds_a_benchmark(plugin_module: str) -> None:
    configure([f"{plugin_module}.EchoEvaluator"])
    assert "echo" in available_slugs()
    assert get_evaluator("echo").title == "Echo"
    assert check_registry() == []


def test_configure_replaces_the_earlier_paths(plugin_module: str) -> None:
    configure([f"{plugin_module}:EchoEvaluator"])
    configure([])
    with pytest.raises(UnknownEvaluatorError):
        get_evaluator("echo")


def test_an_entry_point_adds_a_benchmark(plugin_module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metadata, "entry_points", _fake_entry_points(("echo", f"{plugin_module}:EchoEvaluator")))
    configure([])
    assert "echo" in available_slugs()
    assert check_registry() == []


def test_it_flags_an_entry_point_whose_name_differs_from_the_slug(
    plugin_module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metadata, "entry_points", _fake_entry_points(("reverb", f"{plugin_module}:EchoEvaluator")))
    configure([])
    problems = check_registry()
    assert any("registered as 'reverb'" in problem and "'echo'" in problem for problem in problems)


def test_loading_a_class_reports_an_import_error_as_a_registry_error() -> None:
    with pytest.raises(RegistryError, match="cannot import module"):
        load_evaluator_class("evaluators.no_such_module:Thing")
