"""Faults: what happens when things go wrong at the worst moment.

Marked `faults` (PostgreSQL only; deselected on SQLite by tests/conftest.py):
- the database restarted under load: a real, throwaway PostgreSQL cluster (initdb + pg_ctl on a
  free port under /tmp; the machine's own cluster is never touched) behind gunicorn with the
  production settings; while it is down pages answer 503 with Retry-After, never 500, and they
  recover by themselves when it is back;
- two editors firing transitions on the same release at the same moment (separate threads and
  connections): exactly one wins, one event, one email;
- concurrent imports of overlapping files: no duplicates, nothing lost.

Unmarked, on every database: a crash inside an import or a publish leaves no half state.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from news import importers, workflow
from news.models import Author, Release, ReleaseAuthor, ReleaseSource, Status, WorkflowEvent
from tests.factories import DraftFactory, ReviewFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
WAIT_SECONDS = 60  # upper bound for each wait below; the tests assert states, not durations


def wait_for(condition, what: str, timeout: float = WAIT_SECONDS, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(step)
    pytest.fail(f"timed out waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- a throwaway PostgreSQL cluster --------------------------------------------------------


def postgres_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    candidates = []
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(Path(out.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return next((path for path in candidates if (path / "initdb").exists()), None)


class ScratchCluster:
    """A PostgreSQL server of our own: its own data directory, socket and port."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix="press-faults-pg-"))
        self.data = self.home / "data"
        self.as_postgres = []
        if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.home, "postgres", "postgres")

    def run(self, *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [*self.as_postgres, *args], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def init(self) -> None:
        self.run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust",
                 "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options,
                 "-l", str(self.home / "server.log"), "-w", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        # "fast" ends every session at once, as a restart or failover does.
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        subprocess.run(
            [*self.as_postgres, str(self.bindir / "pg_ctl"), "-D", str(self.data),
             "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )  # fmt: skip
        shutil.rmtree(self.home, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def scratch_cluster():
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    cluster = ScratchCluster(bindir)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


SEED = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", "--noinput", verbosity=0)
call_command("collectstatic", "--noinput", verbosity=0)
from tests.factories import PublishedFactory
releases = PublishedFactory.create_batch(3)
print(json.dumps([r.get_absolute_url("ru") for r in releases]))
"""


def fetch(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            response.read()
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        error.read()
        return error.code, dict(error.headers)
    except OSError:
        return 0, {}  # the app server itself did not answer


@pytest.mark.faults
@pytest.mark.parametrize("health_checks", [False, True], ids=["default", "health-checks"])
def test_database_restart_under_load_answers_503_then_recovers(
    scratch_cluster, tmp_path, health_checks
):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")} | {
        "DJANGO_SETTINGS_MODULE": "pressservice.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": scratch_cluster.url,
        "CACHE_URL": "dummycache://",  # every request goes to the database
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONPATH": str(ROOT),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "4",
        "GUNICORN_ACCESSLOG": "",
        "DB_CONN_HEALTH_CHECKS": "1" if health_checks else "0",
    }
    seeded = subprocess.run(
        [sys.executable, "-c", SEED], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    base = f"http://127.0.0.1:{port}"
    urls = [
        f"{base}/ru/news/",
        *(base + path for path in json.loads(seeded.stdout)),
        base + "/healthz",
    ]

    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [GUNICORN, "--config", "gunicorn.conf.py"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    results: list[tuple[str, str, int, dict]] = []
    phase = {"name": "up"}
    stop = threading.Event()

    def load(offset: int):
        n = offset
        while not stop.is_set():
            url = urls[n % len(urls)]
            started = phase["name"]
            status, headers = fetch(url)
            # A request belongs to a phase when it started and ended in it.
            results.append(
                (started if started == phase["name"] else "between", url, status, headers)
            )
            n += 1

    def count(name: str, status: int | None = None) -> int:
        return sum(1 for p, _, s, _ in results if p == name and (status is None or s == status))

    try:
        wait_for(
            lambda: fetch(base + "/healthz")[0] == 200 or server.poll() is not None,
            "gunicorn to serve",
        )
        assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()[-3000:]
        workers = [threading.Thread(target=load, args=(i,)) for i in range(6)]
        for worker in workers:
            worker.start()
        wait_for(lambda: count("up") >= 30, "requests while the database is up")

        phase["name"] = "stopping"
        scratch_cluster.stop()
        phase["name"] = "down"
        wait_for(lambda: count("down", 503) >= 30, "503 answers while the database is down")
        healthz_down = fetch(base + "/healthz")

        scratch_cluster.start()
        phase["name"] = "back"
        wait_for(lambda: fetch(base + "/healthz")[0] == 200, "the site to recover")
        phase["name"] = "recovered"
        wait_for(lambda: count("recovered") >= 60, "requests after recovery")
    finally:
        stop.set()
        for worker in locals().get("workers", []):
            worker.join(timeout=30)
        server.terminate()
        server.wait(timeout=30)
        log.close()

    statuses = Counter(status for _, _, status, _ in results)
    assert set(statuses) <= {200, 503}, (statuses, (tmp_path / "gunicorn.log").read_text()[-3000:])
    assert all(status == 200 for p, _, status, _ in results if p == "up")
    down = [(url, headers) for p, url, status, headers in results if p == "down" and status == 503]
    assert {url for url, _ in down} == set(urls)  # pages and the health check alike
    for _url, headers in down:
        assert headers["Retry-After"] == "30"
        assert "no-store" in headers["Cache-Control"]
    assert healthz_down[0] == 503
    # Back by itself: no restart of the app server, nothing reset by hand. With health checks
    # no request sees the restart any more; without them (the default) a server thread that
    # still holds a connection from before answers one 503, drops it and reconnects: at most
    # one per thread (2 workers x 4 threads), then only 200.
    recovered = [s for p, _, s, _ in results if p == "recovered"]
    threads = 2 * 4
    if health_checks:
        assert recovered == [200] * len(recovered)
    else:
        assert recovered.count(503) <= threads, recovered
        assert recovered[-20:] == [200] * 20
    assert "Traceback" not in (tmp_path / "gunicorn.log").read_text()


# --- two editors at the same moment ----------------------------------------------------------


def waiting_for_a_row_lock() -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


ACTIONS = {
    "publish": lambda release, user: workflow.publish(release, by=user),
    "request_changes": lambda release, user: workflow.request_changes(
        release, by=user, comment="Уточните даты"
    ),
}


@pytest.mark.faults
@pytest.mark.parametrize(
    ("first", "second"),
    [("publish", "publish"), ("publish", "request_changes"), ("request_changes", "publish")],
)
def test_two_editors_at_the_same_moment_exactly_one_wins(
    transactional_db, roles, mailoutbox, run_tasks, first, second
):
    author = UserFactory(username="officer", role="Authors")
    editors = [UserFactory(username=f"editor{i}", role="Editors") for i in (1, 2)]
    release = ReviewFactory(created_by=author)
    events_before = WorkflowEvent.objects.count()
    mailoutbox.clear()

    # The first editor's transaction pauses while it holds the row lock, the second one starts
    # and must wait for that lock; then the first goes on. No sleeps, no luck needed.
    holding, go = threading.Event(), threading.Event()
    real_create = WorkflowEvent.objects.create

    def create_then_pause(**kwargs):
        if threading.current_thread().name == "editor1":
            holding.set()
            assert go.wait(WAIT_SECONDS)
        return real_create(**kwargs)

    outcome: dict[str, object] = {}

    def act(name: str, action: str, user):
        try:
            ACTIONS[action](Release.objects.get(pk=release.pk), user)
            outcome[name] = "won"
        except ValidationError as error:
            outcome[name] = error.code
        finally:
            connection.close()

    with mock.patch.object(WorkflowEvent.objects, "create", side_effect=create_then_pause):
        one = threading.Thread(target=act, args=("editor1", first, editors[0]), name="editor1")
        two = threading.Thread(target=act, args=("editor2", second, editors[1]), name="editor2")
        one.start()
        assert holding.wait(WAIT_SECONDS)
        two.start()
        wait_for(waiting_for_a_row_lock, "the second editor to wait for the row lock")
        go.set()
        one.join(WAIT_SECONDS)
        two.join(WAIT_SECONDS)

    assert outcome == {"editor1": "won", "editor2": "invalid_state"}
    release.refresh_from_db()
    expected = Status.PUBLISHED if first == "publish" else Status.DRAFT
    assert release.status == expected
    new_events = WorkflowEvent.objects.order_by("id")[events_before:]
    assert [(e.actor.username, e.to_status) for e in new_events] == [("editor1", expected)]
    run_tasks()  # the notification leaves through the background worker
    assert [message.to for message in mailoutbox] == [[author.email]]


# --- concurrent imports ----------------------------------------------------------------------


def write_release(folder: Path, number: int, language: str) -> Path:
    if language == "ru":
        text = (
            "Исполнительный комитет СНГ\n\n"
            f"Заседание рабочей группы номер {number}\n\n"
            f"В Минске прошло заседание рабочей группы номер {number}.\n\n"
            "Обсуждены вопросы сотрудничества.\n\n"
            "Пресс-служба Исполнительного комитета СНГ\n\n"
            f"Адрес страницы в интернете: https://cis.minsk.by/news/{9000 + number}\n"
        )
    else:
        text = (
            "CIS Executive Committee\n\n"
            f"Meeting of working group number {number}\n\n"
            f"Working group number {number} met in Minsk.\n\n"
            "Cooperation was discussed.\n\n"
            "Press Service of the CIS Executive Committee\n\n"
            f"Web page address: https://cis.minsk.by/news/{9000 + number}\n"
        )
    path = folder / f"{number}-{language}.txt"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.faults
def test_concurrent_imports_of_overlapping_files_lose_nothing_and_duplicate_nothing(
    transactional_db, tmp_path
):
    numbers = range(1, 9)
    russian = [write_release(tmp_path, n, "ru") for n in numbers]
    english = [write_release(tmp_path, n, "en") for n in numbers]
    # Three importers at once: two with the same Russian files in opposite orders, one with
    # the English versions of the same pages.
    batches = [russian, list(reversed(russian)), english]
    start = threading.Barrier(len(batches))
    errors: list[BaseException] = []

    def run(paths):
        try:
            start.wait(WAIT_SECONDS)
            for path in paths:
                importers.import_file(path)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_SECONDS * 2)

    assert errors == []
    assert Release.objects.count() == len(numbers)
    originals = ReleaseSource.objects.filter(kind="original")
    assert sorted(originals.values_list("url", flat=True)) == sorted(
        f"https://cis.minsk.by/news/{9000 + n}" for n in numbers
    )
    for n in numbers:
        release = originals.get(url=f"https://cis.minsk.by/news/{9000 + n}").release
        assert release.title_ru == f"Заседание рабочей группы номер {n}"
        assert release.title_en == f"Meeting of working group number {n}"
        assert release.sources.count() == 1
    pairs = list(ReleaseAuthor.objects.values_list("release_id", "author_id"))
    assert len(set(pairs)) == len(pairs)
    assert {release_id for release_id, _ in pairs} == set(
        Release.objects.values_list("id", flat=True)
    )


@pytest.mark.faults
def test_two_importers_meeting_a_new_signature_at_once_create_one_author(
    transactional_db, tmp_path
):
    paths = [write_release(tmp_path, n, "ru") for n in (1, 2)]
    both_looked = threading.Barrier(2)
    real_find_author = importers.find_author
    looked_once = threading.local()

    def find_author_then_wait(name):
        author = real_find_author(name)
        if not getattr(looked_once, "done", False):
            looked_once.done = True
            # Both importers have looked (and found nothing) before either creates one.
            with contextlib.suppress(threading.BrokenBarrierError):
                both_looked.wait(timeout=10)
        return author

    errors: list[BaseException] = []

    def run(path):
        try:
            importers.import_file(path)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    with mock.patch.object(importers, "find_author", side_effect=find_author_then_wait):
        threads = [threading.Thread(target=run, args=(path,)) for path in paths]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_SECONDS)
    assert errors == []
    assert Release.objects.count() == 2
    assert Author.objects.count() == 1


# --- crashes inside a transaction (every database) -------------------------------------------


def history_count() -> int:
    return Release.history.model.objects.count()


def test_a_crash_inside_an_import_writes_nothing(transactional_db, tmp_path):
    path = write_release(tmp_path, 1, "ru")
    crash = RuntimeError("disk full")
    with (
        mock.patch.object(importers.ReleaseSource.objects, "create", side_effect=crash),
        pytest.raises(RuntimeError),
    ):
        importers.import_file(path)
    assert Release.objects.count() == 0
    assert Author.objects.count() == 0
    assert ReleaseAuthor.objects.count() == 0
    assert history_count() == 0
    # The same file imports cleanly afterwards.
    assert importers.import_file(path).created


def test_a_crash_inside_a_publishing_import_keeps_the_previous_state(transactional_db, tmp_path):
    importers.import_file(write_release(tmp_path, 1, "ru"))
    release = Release.objects.get()
    before = (release.status, release.title_en, release.version, history_count())
    with (
        mock.patch.object(workflow, "publish", side_effect=RuntimeError("crash")),
        pytest.raises(RuntimeError),
    ):
        importers.import_file(
            write_release(tmp_path, 1, "en"),
            status=Status.PUBLISHED,
            published_at=release.created_at,
        )
    release.refresh_from_db()
    assert (release.status, release.title_en, release.version, history_count()) == before
    assert WorkflowEvent.objects.count() == 0  # not even the submit that came first


def test_a_crash_inside_publish_leaves_the_release_in_review(transactional_db, mailoutbox):
    author = UserFactory(username="officer2")
    release = ReviewFactory(created_by=author)
    before = (release.version, history_count(), WorkflowEvent.objects.count())
    mailoutbox.clear()
    with (
        mock.patch.object(WorkflowEvent.objects, "create", side_effect=RuntimeError("crash")),
        pytest.raises(RuntimeError),
    ):
        workflow.publish(Release.objects.get(pk=release.pk), by=None)
    release.refresh_from_db()
    assert release.status == Status.REVIEW
    assert release.published_at is None and release.first_published_at is None
    assert (release.version, history_count(), WorkflowEvent.objects.count()) == before
    assert mailoutbox == []
    assert not Release.objects.published("ru").exists()


def test_a_crash_after_the_lock_does_not_block_the_next_attempt(transactional_db):
    release = DraftFactory()
    with (
        mock.patch.object(WorkflowEvent.objects, "create", side_effect=RuntimeError("crash")),
        contextlib.suppress(RuntimeError),
    ):
        workflow.submit(Release.objects.get(pk=release.pk), by=None)
    workflow.submit(Release.objects.get(pk=release.pk), by=None)
    assert Release.objects.get(pk=release.pk).status == Status.REVIEW
    assert WorkflowEvent.objects.count() == 1
