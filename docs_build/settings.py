"""The environment variables the docs build reads (the runtime's are in ``runbooks/settings.py``)."""

DOCS_PG_ENV = "RUNBOOK_DOCS_PG"  # the PostgreSQL server the claim experiments use
DOCS_BUILD_DIR_ENV = "RUNBOOK_DOCS_BUILD_DIR"  # where the build writes its pages (default build/docs)
DOCS_CACHE_ENV = "RUNBOOK_DOCS_CACHE"  # the executed-runbook cache (default in the user's cache)
CLAIMS_CACHE_ENV = "RUNBOOK_CLAIMS_CACHE"  # the claim experiments' cache (default in the user's cache)
DOCS_GALAXY_ROOT_ENV = "RUNBOOK_DOCS_GALAXY_ROOT"  # a Galaxy checkout whose scripts the scripts page reads (optional)
