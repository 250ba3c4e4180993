"""How the Galaxy worker starts on a checkout's own Python: this package importable, nothing else of the tool's.

A checkout's virtualenv has its own SQLAlchemy and pydantic (23.1: 1.4 and 1.10). The folder
that holds ``runbooks`` is the tool's whole site-packages when it is pip- or pipx-installed, so
putting it on ``PYTHONPATH`` would hand the checkout's code the tool's SQLAlchemy 2 and pydantic 2.
Instead the server runs ``python -c SOURCE IMPORT_ROOT PARENT_PID`` with this module's source: a
finder that answers for the top-level name ``runbooks`` alone, from ``IMPORT_ROOT``, whatever else
that folder holds. Stdlib only, and no syntax newer than Python 3.7 (a checkout's venv may be old).

When the checkout's Python cannot import the worker (a module it lacks, a Python too old), every
request gets a ``refused`` reply: one line naming what is missing and which Python lacks it.
"""

import importlib.machinery
import json
import os
import sys

REPLY_PREFIX = "RUNBOOK-REPLY "
PACKAGE = "runbooks"


class ThisPackageOnly:
    """A meta-path finder for ``runbooks`` (and through its ``__path__``, its modules) from one folder."""

    def __init__(self, root):
        self.root = root

    def find_spec(self, name, path=None, target=None):
        if name != PACKAGE:
            return None
        return importlib.machinery.PathFinder.find_spec(name, [self.root])


def refusal(error):
    """The one line for a Python that cannot run the worker: what it lacks, and which Python it is."""
    where = os.getcwd()  # the server runs in the checkout's root
    python = "{} (Python {}.{})".format(sys.executable, *sys.version_info[:2])
    if isinstance(error, ModuleNotFoundError):
        what = f"needs the module {error.name!r}, which it does not have"
    else:
        what = f"cannot import the Galaxy worker ({error.__class__.__name__}: {error})"
    return (
        f"the Galaxy worker for {where} runs on {python}, which {what}: install Galaxy's requirements "
        "there (Galaxy's scripts/common_startup.sh does; the worker needs Python 3.8+ and SQLAlchemy)"
    )


def refuse_every_request(line):
    for request in sys.stdin:
        if request.strip():
            sys.stdout.write(REPLY_PREFIX + json.dumps({"refused": line}) + "\n")
            sys.stdout.flush()


def main(argv):
    root, parent = argv[1], int(argv[2])
    sys.meta_path.insert(0, ThisPackageOnly(root))
    try:
        from runbooks.galaxy.worker import main as serve
    except (ImportError, SyntaxError) as error:
        refuse_every_request(refusal(error))
        return 0
    return serve(parent)


if __name__ == "__main__":
    main(sys.argv)
