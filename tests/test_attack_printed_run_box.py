"""Attack: the command each runbook page shows ("Run it on your own database") pastes and does what it says.

The downgrade runbook's box printed ``-p target ''``: a parameter set to nothing. Every ``-p NAME
VALUE`` the box shows must be a value the runbook takes (typed as its default, never empty), so
the pasted line runs the runbook with exactly the parameters it names.
"""

from __future__ import annotations

import shlex

import pytest

from runbooks.cli.main import build_parser
from runbooks.cli.notebook_run import notebook_path
from runbooks.cli.parameters import declared_parameters, typed_parameters

from attacks import attack
from conftest import PROJECT

TASKS = sorted(path.stem for path in (PROJECT / "notebooks").glob("*.ipynb"))


@attack("run", "a runbook page's run box: no empty -p value", "every shown parameter typed and non-empty")
@pytest.mark.parametrize("task", TASKS)
def test_run_box_parameters_paste(task):
    from docs_build.site_build.hooks import run_command_lines

    for line in run_command_lines(task):
        words = shlex.split(line)
        words = words[words.index("run") :]
        args = build_parser().parse_args(words)
        assert (args.task, args.notebook) == ("run", task), line
        assert all(value != "" for _, value in args.parameters), line
        typed = typed_parameters(task, notebook_path(task), [tuple(pair) for pair in args.parameters])
        declared = declared_parameters(notebook_path(task))
        assert all(type(typed[name]) is type(declared[name]) for name in typed), line
