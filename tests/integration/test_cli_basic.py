"""The command line: plugins, lattices, error handling, start-up cost."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import types

import pytest
from conftest import run_cli

from latticeclosure.cli import Command
from latticeclosure.cli.main import build_parser, builtin_commands, main
from latticeclosure.errors import DuplicateNameError, UnknownNameError
from latticeclosure.hookspecs import hookimpl
from latticeclosure.registry import get_registry


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("latticeclosure ")


def test_builtin_commands_follow_the_protocol():
    commands = builtin_commands()
    names = [c.name for c in commands]
    assert {"run", "plugins", "lattices", "clusters", "equations", "close", "fit"} <= set(names)
    assert len(names) == len(set(names))
    for command in commands:
        assert isinstance(command, Command)
        assert command.help


def test_plugins_table_lists_kinds_and_sources(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "plugins:" in out
    assert "latticeclosure_std" in out
    for kind in get_registry().kinds():
        assert kind in out
    assert "square" in out


def test_plugins_json(capsys):
    assert main(["plugins", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["kinds"]) == set(get_registry().kinds())
    rows = {row["name"]: row for row in data["kinds"]["lattices"]}
    assert rows["triangular"]["distribution"] == "latticeclosure"
    assert rows["triangular"]["module"] == "latticeclosure_std"
    assert {p["plugin"] for p in data["plugins"]} >= {"std"}


def test_plugins_kind_filter(capsys):
    assert main(["plugins", "--kind", "lattices", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data["kinds"]) == ["lattices"]


def test_lattices_table(capsys):
    assert main(["lattices"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["NAME", "DIM", "BASIS", "SOURCE"]
    kagome = next(line for line in lines if line.startswith("kagome "))
    assert kagome.split()[1:3] == ["2", "3"]
    assert "latticeclosure_std" in kagome


def test_lattices_json(capsys):
    assert main(["lattices", "--format", "json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["honeycomb"]["dimension"] == 2
    assert rows["honeycomb"]["n_basis"] == 2
    assert rows["fcc"]["dimension"] == 3
    assert rows["chain"]["source"]["module"] == "latticeclosure_std"


def test_unknown_lattice_error_from_a_command_lists_known_names():
    class Failing:
        name = "fail"
        help = "always fails"

        def add_arguments(self, parser: argparse.ArgumentParser) -> None:
            parser.add_argument("--lattice", required=True)

        def run(self, args: argparse.Namespace) -> int:
            get_registry().get("lattices", args.lattice)
            return 0

    parser = build_parser([Failing()])
    args = parser.parse_args(["fail", "--lattice", "nosuch"])
    with pytest.raises(UnknownNameError, match="known lattices: .*square"):
        args._command.run(args)


def test_unknown_lattice_in_subprocess_exits_2_without_traceback(tmp_path):
    """A plugin command asking for an unknown lattice: `error: ...` on stderr, status 2."""
    plugin_dir = tmp_path / "plug"
    plugin_dir.mkdir()
    (plugin_dir / "failing_cmd_plugin.py").write_text(
        "from latticeclosure.hookspecs import hookimpl\n"
        "from latticeclosure.registry import get_lattice\n"
        "class Show:\n"
        "    name = 'show-lattice'\n"
        "    help = 'show one lattice'\n"
        "    def add_arguments(self, parser):\n"
        "        parser.add_argument('--lattice', required=True)\n"
        "    def run(self, args):\n"
        "        print(get_lattice(args.lattice).name)\n"
        "        return 0\n"
        "@hookimpl\n"
        "def latticeclosure_cli_commands():\n"
        "    return [Show()]\n"
    )
    code = (
        "import sys\n"
        "import failing_cmd_plugin\n"
        "from latticeclosure.registry import get_registry\n"
        "from latticeclosure.cli.main import main\n"
        "get_registry().register(failing_cmd_plugin, name='failing')\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    ok = subprocess.run(
        [sys.executable, "-c", code, "show-lattice", "--lattice", "square"],
        capture_output=True,
        text=True,
        cwd=plugin_dir,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "square"
    bad = subprocess.run(
        [sys.executable, "-c", code, "show-lattice", "--lattice", "nosuch"],
        capture_output=True,
        text=True,
        cwd=plugin_dir,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert "Traceback" not in bad.stderr
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: unknown lattice 'nosuch'; known lattices: ")
    assert "square" in lines[0] and "triangular" in lines[0]


def test_usage_errors_exit_2():
    for args in (["nosuchcommand"], ["lattices", "--format", "xml"], []):
        result = run_cli(*args)
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr
        assert "error:" in result.stderr


def test_broken_plugin_is_one_line_error(tmp_path):
    """A plugin with a misspelled hook: the CLI reports it in one line, exit 2."""
    pkg = tmp_path / "site"
    (pkg / "typo_plugin").mkdir(parents=True)
    (pkg / "typo_plugin" / "__init__.py").write_text(
        "from latticeclosure.hookspecs import hookimpl\n"
        "@hookimpl\n"
        "def latticeclosure_latices():\n"
        "    return []\n"
    )
    dist = pkg / "typo_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: typo-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[latticeclosure]\ntypo = typo_plugin\n")
    result = run_cli("lattices", env={"PYTHONPATH": os.pathsep.join([str(pkg), *sys.path])}, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.startswith("error: plugin typo-plugin 0.1 (typo_plugin)")
    assert "latticeclosure_latices" in message


def test_traceback_flag_shows_traceback(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from latticeclosure.cli.main import main\n"
            "from latticeclosure.errors import LatticeClosureError\n"
            "import latticeclosure.cli.lattices as m\n"
            "def boom(self, args):\n"
            "    raise LatticeClosureError('boom')\n"
            "m.LatticesCommand.run = boom\n"
            "sys.exit(main(sys.argv[1:]))\n",
            "--traceback",
            "lattices",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "boom" in result.stderr


def test_plugin_command_name_clash_is_an_error():
    class Clash:
        name = "lattices"
        help = "clashes with the built-in"

        def add_arguments(self, parser):
            pass

        def run(self, args):
            return 0

    with pytest.raises(DuplicateNameError, match="duplicate CLI command 'lattices'"):
        build_parser([*builtin_commands(), Clash()])


def test_plugin_commands_are_added(monkeypatch, capsys):
    from latticeclosure import registry as registry_module

    fresh = registry_module.Registry()
    monkeypatch.setattr(registry_module, "_REGISTRY", fresh)

    class Hello:
        name = "hello"
        help = "say hello"

        def add_arguments(self, parser):
            parser.add_argument("--who", default="lattice")

        def run(self, args):
            print(f"hello {args.who}")
            return 0

    plugin = types.ModuleType("hello_plugin")

    @hookimpl
    def latticeclosure_cli_commands():
        return [Hello()]

    plugin.latticeclosure_cli_commands = latticeclosure_cli_commands
    fresh.register(plugin, name="hello")
    assert main(["hello", "--who", "world"]) == 0
    assert capsys.readouterr().out == "hello world\n"


@pytest.mark.parametrize("args", [["--help"], ["plugins"], ["lattices"], ["lattices", "--help"]])
def test_no_numba_on_startup(args):
    code = (
        "import sys\n"
        "from latticeclosure.cli.main import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "assert 'numba' not in sys.modules, 'numba imported on start-up'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_python_dash_m_entry_points():
    for module in ("latticeclosure", "latticeclosure.cli.main"):
        result = subprocess.run(
            [sys.executable, "-m", module, "lattices"], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert "triangular" in result.stdout
