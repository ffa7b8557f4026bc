import os
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SAMPLE = SHARED_DATA / "000_ef5484de1831ec51.txt"
OUTPUT = Path(__file__).resolve().parent.parent / "test-results"


@pytest.fixture
def sample_path() -> Path:
    """The real release in ../shared/data (present in CI, absent in a newcomer's clone)."""
    if not SAMPLE.exists():
        pytest.skip(f"the shared sample {SAMPLE} is not here (it is beside the checkout in CI)")
    return SAMPLE


@pytest.fixture
def output_dir(request) -> Path:
    path = OUTPUT / request.node.name.replace("/", "_")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def roles(db):
    call_command("setup_roles", verbosity=0)


@pytest.fixture
def author_user(roles):
    from tests.factories import UserFactory

    return UserFactory(username="officer", role="Authors", first_name="Ольга")


@pytest.fixture
def other_author_user(roles):
    from tests.factories import UserFactory

    return UserFactory(username="officer2", role="Authors")


@pytest.fixture
def editor_user(roles):
    from tests.factories import UserFactory

    return UserFactory(username="editor", role="Editors", first_name="Пётр")


@pytest.fixture
def second_editor_user(roles):
    """Another editor: the second pair of eyes that publishes what `editor_user` submitted."""
    from tests.factories import UserFactory

    return UserFactory(username="editor2", role="Editors", first_name="Анна")


@pytest.fixture
def superuser(db):
    from tests.factories import UserFactory

    return UserFactory(username="root", is_superuser=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With PRESS_NO_SKIPS=1 (set by .ci/run) a skipped test is a failure: CI has everything."""
    outcome = yield
    report = outcome.get_result()
    if (
        os.environ.get("PRESS_NO_SKIPS") == "1"
        and report.skipped
        and not hasattr(report, "wasxfail")
    ):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped in CI, where nothing may be skipped: {reason}"


# --- Tests that need a real PostgreSQL server ---------------------------------------------
# Tests marked `faults` (tests/test_faults.py, tests/test_backup.py) or `postgresql` (what
# only PostgreSQL does, such as its prepared statements) run only when the test database is
# PostgreSQL; on SQLite they are deselected, not skipped, so that CI's no-skips rule holds
# for its SQLite run. `specname` keeps this hook apart from any other
# pytest_collection_modifyitems in this file.
POSTGRESQL_ONLY = ("faults", "postgresql")


@pytest.hookimpl(specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_faults_need_postgresql(config, items):
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return

    def postgresql_only(item) -> bool:
        return any(item.get_closest_marker(name) for name in POSTGRESQL_ONLY)

    deselected = [item for item in items if postgresql_only(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not postgresql_only(item)]


@pytest.fixture
def run_tasks(monkeypatch, django_capture_on_commit_callbacks):
    """Runs the background worker (django-tasks-db's db_worker) in this process until no task
    is due, as `manage.py db_worker --batch` does. The test's transaction stays open, so what
    tasks queue "on commit" is run as if they had committed, and the worker goes round again;
    the worker's connection clean-up, meant for a long-lived process, is switched off."""
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run(rounds: int = 5):
        for _round in range(rounds):
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                call_command(
                    "db_worker",
                    batch=True,
                    reload=False,
                    startup_delay=False,
                    interval=0,
                    verbosity=0,
                )
            if not callbacks:
                return

    return run
