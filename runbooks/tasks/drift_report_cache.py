"""Galaxy's model comparison, remembered per schema: an unchanged schema is not compared again.

``compare_metadata`` needs Galaxy's model imported (as long as ``dbversion`` itself); its answer
depends only on the schema it reads and on the code (the installed galaxy-data, Alembic and
SQLAlchemy). So the answer is kept in the cache folder (``paths.cache_dir``), keyed by both (``schema_digest``); a
checkout's model can change without a new revision, so a checkout is always compared afresh.
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import PackageNotFoundError, version

from runbooks.code.environment import GalaxyEnv
from runbooks.database.schema_digest import schema_digest
from runbooks.database.urls import DatabaseUrl
from runbooks.galaxy.commands import model_differences
from runbooks.galaxy.drift_report import DriftReport, drift_report
from runbooks.paths import cache_dir, write_whole


def _versions() -> str:
    found = []
    for name in ("galaxy-data", "alembic", "sqlalchemy"):
        try:
            found.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            found.append(f"{name}=?")
    return ",".join(found)


def cache_key(db: DatabaseUrl, env: GalaxyEnv) -> str:
    text = f"{_versions()}|{env.migrations_dir}|{db.dialect}|{schema_digest(db)}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def cached_model_drift(db: DatabaseUrl, env: GalaxyEnv) -> DriftReport:
    if env.root is not None:
        return drift_report(db, model_differences(db, env))
    path = cache_dir() / "drift-cache" / f"{cache_key(db, env)}.json"
    if path.is_file():
        return drift_report(db, json.loads(path.read_text()))
    differences = model_differences(db, env)
    write_whole(path, json.dumps(differences))  # two doctors at once may both write it
    return drift_report(db, differences)
