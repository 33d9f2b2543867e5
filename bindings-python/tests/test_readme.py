"""The README's Python snippets run as written."""

import os
import re

import pytest

from conftest import ROOT

README = ROOT / "bindings-python" / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_a_quickstart():
    assert BLOCKS


def test_quickstart_runs(capsys):
    exec(compile(BLOCKS[0], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "unknown_entity" in out


def test_own_organisation_snippet_runs(tmp_path, monkeypatch):
    import shutil

    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    (tmp_path / "my-department-policies").mkdir()
    shutil.copy(ROOT / "policies" / "examples" / "inventory.json", tmp_path / "inventory.json")
    monkeypatch.chdir(tmp_path)
    exec(compile(BLOCKS[1], "README.md", "exec"), {})


ROOT_BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)


def test_the_project_readme_python_quickstart_runs(capsys):
    assert ROOT_BLOCKS
    for block in ROOT_BLOCKS:
        exec(compile(block, "README.md", "exec"), {})
    assert "第十七条" in capsys.readouterr().out


def test_audit_and_vault_snippet_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(BLOCKS[2], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "key_destroyed" in out and "张某,3200" in out


def test_workflows_snippet_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(BLOCKS[3], "README.md", "exec"), {})
    out = capsys.readouterr().out.split()
    assert out == ["False", "allow", "executed", "workflow_invalid"]


def test_explain_and_assess_snippet_runs(monkeypatch, capsys):
    monkeypatch.chdir(ROOT / "bindings-python" / "tests")
    exec(compile(BLOCKS[4], "README.md", "exec"), {})
    assert capsys.readouterr().out.split() == ["True", "art3-modify-own", "True"]
