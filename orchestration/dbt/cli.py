"""`make dbt ARGS=...`: dbt with the same environment the orchestrator gives it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lakehouse.settings import SettingsError, load_settings
from orchestration.dbt.project import DBT_PROJECT_DIR, build_file, dbt_environment


def main(args: list[str]) -> int:
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    build_file(settings).parent.mkdir(parents=True, exist_ok=True)
    dbt = Path(sys.executable).parent / "dbt"
    os.chdir(DBT_PROJECT_DIR)
    os.environ.update(dbt_environment(settings))
    os.execv(dbt, [str(dbt), *(args or ["build"]), "--profiles-dir", str(DBT_PROJECT_DIR)])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
