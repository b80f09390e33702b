"""The composition root builds `mdr` from the model packages that are installed, and only from them."""
import sys

import pytest

from stages import mdr


def test_every_model_package_brings_its_commands():
    names = [m.name for m in mdr.present_models()]
    assert names == ["recsys", "translation", "text_speech"]


def test_an_absent_model_package_is_left_out(monkeypatch):
    monkeypatch.setattr(mdr, "MODEL_PACKAGES", ("recsys.commands", "no_such_model.commands"))
    assert [m.name for m in mdr.present_models()] == ["recsys"]


def test_a_broken_import_inside_a_present_package_is_not_hidden(monkeypatch, tmp_path):
    pkg = tmp_path / "broken_model"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "commands.py").write_text("import a_dependency_that_is_missing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(mdr, "MODEL_PACKAGES", ("broken_model.commands",))
    with pytest.raises(ModuleNotFoundError, match="a_dependency_that_is_missing"):
        mdr.present_models()
    sys.modules.pop("broken_model", None)


def test_serve_refuses_an_unknown_model_naming_the_known_ones(capsys):
    assert mdr.main(["serve", "--models", "recsys,nonsense"]) == 2
    err = capsys.readouterr().err
    assert "--models: choose from recsys,translation,text_speech" in err
