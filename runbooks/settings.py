"""Every environment variable the project reads, by name, with what it means: one prefix, one place.

The runtime reads the first group; Galaxy's own names come next (the tool reads them as Galaxy's
scripts do); the tests and benchmarks read the last group. The docs build's names are in
``docs_build/settings.py``. ``tests/test_architecture.py`` fails on a name spelled anywhere else.
"""

# The tool
HOME_ENV = "RUNBOOK_HOME"  # the folder for the sample database, backups and executed runbooks
CACHE_ENV = "RUNBOOK_CACHE_DIR"  # what is derived from Galaxy's code alone (default: the home)
DB_URL_ENV = "RUNBOOK_DB_URL"  # the database a task works on when --db is not given
INSTALL_DB_URL_ENV = "RUNBOOK_INSTALL_DB_URL"  # its separate tool shed install (tsi) database, if any
PG_SERVER_ENV = "RUNBOOK_PG_URL"  # a PostgreSQL server for scratch databases
DEBUG_ENV = "RUNBOOK_DEBUG"  # "1": an internal error prints its traceback
CHECKOUT_ENV = "RUNBOOK_GALAXY_CHECKOUT"  # set for a worker: whose code it runs, for its refusal
PROGRAM_ENV = "RUNBOOK_PROGRAM"  # set for a kernel the CLI runs: the program as the user invoked it
PINNED_VENVS_ENV = "RUNBOOK_PINNED_VENVS"  # venvs of older releases, every galaxy-* package pinned (22.01's too)
PYTHON_ENV_PREFIX = "RUNBOOK_PYTHON"  # RUNBOOK_PYTHON39: the Python 3.9 for a release that needs it

# Galaxy's own
GALAXY_DB_OVERRIDE_ENV = "GALAXY_CONFIG_OVERRIDE_DATABASE_CONNECTION"  # beats galaxy.yml
GALAXY_DB_ENV = "GALAXY_CONFIG_DATABASE_CONNECTION"  # fills in when galaxy.yml has no key
GALAXY_TSI_OVERRIDE_ENV = "GALAXY_INSTALL_CONFIG_OVERRIDE_INSTALL_DATABASE_CONNECTION"  # beats galaxy.yml
GALAXY_TSI_ENV = "GALAXY_INSTALL_CONFIG_INSTALL_DATABASE_CONNECTION"  # fills in when galaxy.yml has no key
GALAXY_CONFIG_FILE_ENV = "GALAXY_CONFIG_FILE"  # run.sh / gravity's config file; the db scripts ignore it
GALAXY_ROOT_ENV = "GALAXY_ROOT"  # a checkout, when --galaxy-root is not given
GALAXY_VIRTUAL_ENV_ENV = "GALAXY_VIRTUAL_ENV"  # the checkout's virtualenv (relative to its root)

# The tests and benchmarks
TEST_PG_ENV = "RUNBOOK_TEST_PG"  # the PostgreSQL server the tests make their databases on
TEST_RUN_ENV = "RUNBOOK_TEST_RUN"  # one test run's shared folder (set by the first worker)
TEST_TAG_ENV = "RUNBOOK_TEST_TAG"  # a label a test hands to the processes it starts
RELEASE_VENVS_ENV = "RUNBOOK_RELEASE_VENVS"  # venvs of older releases for the replays and the matrix
OLD_PYTHON_ENV = "RUNBOOK_OLD_PYTHON"  # a Python old enough for the oldest releases
WRITE_SUPPORT_ENV = "RUNBOOK_WRITE_SUPPORT"  # "1": refresh checkout-support.json from this run
FULL_MATRIX_ENV = "RUNBOOK_FULL_MATRIX"  # "1": the upgrade matrix runs every cell
SITE_DIR_ENV = "RUNBOOK_SITE_DIR"  # a site already built, for the site tests
