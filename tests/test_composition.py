"""The composition root builds `mdr` from the model packages that are installed, and only from them."""
import sys

import pytest

from stages import mdr


def test_every_model_package_brings_its_commands():
    names = [m.name for m in mdr.present_models()]
    assert names == ["recsys", "translation", "text_speech"]


def test_an_absent_model_package_is_left_out(monkeypatch):
    monkeypatch.setattr(mdr, "MODELS", ("recsys", "no_such_model"))
    assert [m.name for m in mdr.present_models()] == ["recsys"]


def test_a_broken_import_inside_a_present_package_is_not_hidden(monkeypatch, tmp_path):
    pkg = tmp_path / "broken_model"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "commands.py").write_text("import a_dependency_that_is_missing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(mdr, "MODELS", ("broken_model",))
    with pytest.raises(ModuleNotFoundError, match="a_dependency_that_is_missing"):
        mdr.present_models()
    sys.modules.pop("broken_model", None)


def test_serve_refuses_an_unknown_model_naming_the_known_ones(capsys):
    assert mdr.main(["serve", "--models", "recsys,nonsense"]) == 2
    err = capsys.readouterr().err
    assert "--models: choose from recsys,translation,text_speech" in err


def test_every_option_of_every_sub_command_explains_itself():
    import argparse

    from pipeline.cli import build_parser

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, f"{path} {name}")
            elif not isinstance(action, argparse._HelpAction):
                yield f"{path} {'/'.join(action.option_strings) or action.dest}", action.help

    found = list(walk(build_parser(mdr.present_models()), "mdr"))
    assert len(found) > 40
    missing = [where for where, text in found if not text]
    assert not missing, "options without a help line:\n" + "\n".join(missing)


def test_k_is_spelled_as_the_api_spells_it():
    from pipeline.cli import build_parser

    parser = build_parser(mdr.present_models())
    for argv in (["recommend", "--user", "u1", "-k", "3"], ["recommend", "--user", "u1", "--k", "3"],
                 ["similar", "i1", "-k", "3"], ["search-speech", "hello", "-k", "3"]):
        assert parser.parse_args(argv).k == 3, argv
