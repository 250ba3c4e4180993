"""Printed commands, --help and --version name the program as the user invoked it (issue 22, item 4)."""

from __future__ import annotations

import sys

import pytest

from runbooks import paths
from runbooks.cli.main import main
from runbooks.database.urls import DatabaseUrl
from runbooks.settings import PROGRAM_ENV
from runbooks.tasks.printed_commands import DatabaseArgs, command_line


@pytest.fixture
def script(tmp_path, monkeypatch):
    """An installed ``galaxy-migrations`` script, run as the shell runs it (argv[0] is its path)."""
    bin_dir = tmp_path / "venv bin"
    bin_dir.mkdir()
    path = bin_dir / "galaxy-migrations"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    monkeypatch.delenv(PROGRAM_ENV, raising=False)
    monkeypatch.setattr(sys, "argv", [str(path)])
    return path


def test_installed_script_found_on_path_is_named_bare(script, monkeypatch):
    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin:/bin")
    database = DatabaseArgs(DatabaseUrl.parse("sqlite:////srv/g/universe.sqlite"), galaxy_root=script.parent)
    line = command_line("restore", "/b/x.sqlite", "--yes", database=database)
    assert line.startswith("galaxy-migrations restore /b/x.sqlite --yes --db sqlite:////srv/g/universe.sqlite ")
    assert line.endswith(f"--galaxy-root '{script.parent}'")


def test_installed_script_not_on_path_is_named_by_its_path(script, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert command_line("status") == f"'{script}' status"


def test_module_run_and_kernel_are_named_as_invoked(monkeypatch):
    monkeypatch.delenv(PROGRAM_ENV, raising=False)
    monkeypatch.setattr(sys, "argv", [str(paths.IMPORT_ROOT / "runbooks" / "__main__.py")])
    assert paths.program() == "python -m runbooks"
    monkeypatch.setenv(PROGRAM_ENV, "galaxy-migrations")  # what the CLI tells a kernel it starts
    assert command_line("troubleshoot") == "galaxy-migrations troubleshoot"


def test_help_and_menu_show_the_name(script, monkeypatch, capsys):
    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin:/bin")
    with pytest.raises(SystemExit):
        main(["--help"])
    assert capsys.readouterr().out.startswith("usage: galaxy-migrations [-h] [--version]")
    assert main([]) == 0
    assert "galaxy-migrations run TASK" in capsys.readouterr().out


def test_version_names_the_tool_galaxy_data_and_the_checkout(script, tmp_path, env, capsys):
    from importlib.metadata import version

    root = tmp_path / "galaxy"
    (root / "lib" / "galaxy").mkdir(parents=True)
    (root / "lib" / "galaxy" / "model").symlink_to(env.migrations_dir.parent)
    (root / "lib" / "galaxy" / "version.py").write_text('VERSION_MAJOR = "23.1"\nVERSION_MINOR = "4"\n')
    assert main(["--version"]) == 0
    first, second = capsys.readouterr().out.splitlines()
    assert first.startswith(f"'{script}' {version('galaxy-migration-runbooks')} ")
    assert second.startswith(f"galaxy-data {version('galaxy-data')}: ")
    assert main(["--version", "--galaxy-root", str(root)]) == 0
    assert f"Galaxy 23.1.4: the checkout {root}, run on " in capsys.readouterr().out.splitlines()[-1]
