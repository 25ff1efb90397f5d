"""The README cannot drift from the code: its Python example and offline CLI examples run here."""

from __future__ import annotations

import re
import shlex


from marsad.cli import main
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
DEMO_MODEL = "runs/demo/train/model"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_two_commands_are_what_ci_runs():
    first = _blocks("console")[0]
    assert "make demo" in first and "make test" in first
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (REPO / ".ci/run").read_text()


def test_python_api_example_runs(tiny_model):
    code = _blocks("python")[0].replace(DEMO_MODEL, str(tiny_model))
    code += "\nassert isinstance(result['entities'], list) and isinstance(result['events'], list)\n"
    code += "assert [r['id'] for r in stream] == ['0', '1']\n"
    exec(compile(code, "README.md", "exec"), {})


def test_cli_examples_run(tiny_model, tmp_path, monkeypatch):
    block = next(b for b in _blocks("console") if "marsad validate" in b and "marsad tag" in b)
    monkeypatch.chdir(REPO)
    lines = [ln for ln in block.splitlines() if ln.startswith("marsad ")]
    assert len(lines) >= 8
    for line in lines:
        line = line.replace("/tmp/", f"{tmp_path}/").replace(DEMO_MODEL, str(tiny_model))
        argv = shlex.split(line)[1:]
        assert main(argv) == 0, line
    assert (tmp_path / "eval-dev" / "report.html").is_file() and (tmp_path / "samples.jsonl").is_file()


def test_every_subcommand_is_documented():
    from marsad.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:
        assert f"`marsad {name}" in README, name
