#!/usr/bin/env python3
"""`make bench`: a reproducible benchmark of the public site on this machine.

Against the local PostgreSQL it creates a dedicated database (dropped at the end), migrates,
seeds BENCH_COUNT releases (default 10,000, each with a lead image) with `seed_demo`, imports 1,000
generated plain-text files with `import_releases`, then starts two gunicorn servers with
production settings (DEBUG off, 2 sync workers, persistent connections, Redis cache in a
dedicated, flushed DB number each): one with the page cache off (cold) and one with it on
(warm).
It measures with `wrk` (or a bounded Python load generator where wrk is absent), in rounds
that interleave every page and the floor (a fixed 20 KB page through the same middleware),
and reports medians, ratios to the floor of the same round and server, SQL queries per
request, p99 latencies and the peak memory of the workers.

Output: a Markdown table on stdout and `bench-results/bench.json`. Every load run is bounded
in time and count; everything the harness starts it stops, also on Ctrl-C or SIGTERM.

Environment: BENCH_COUNT (releases to seed, 10000), BENCH_IMPORT (files to import, 1000),
BENCH_ROUNDS (3), BENCH_DURATION (seconds per load run, 5), BENCH_CONNECTIONS (4),
BENCH_PORT (first of two ports, 8190), BENCH_DB (bench_press), BENCH_REDIS_DB (first of two
Redis DB numbers, 13: the cold server must not read pages the warm one cached),
BENCH_PG (postgres://postgres@127.0.0.1:5432), BENCH_REDIS (redis://127.0.0.1:6379).
"""

from __future__ import annotations

import datetime
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench-results"

COUNT = int(os.environ.get("BENCH_COUNT", "10000"))
IMPORT_FILES = int(os.environ.get("BENCH_IMPORT", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
DURATION = int(os.environ.get("BENCH_DURATION", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
PORT = int(os.environ.get("BENCH_PORT", "8190"))
DB_NAME = os.environ.get("BENCH_DB", "bench_press")
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "13"))
PG_URL = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379").rstrip("/")
# The Python load generator's bound on requests per run (wrk is bounded by its duration).
MAX_REQUESTS_PER_RUN = 200_000
# A request slower than this counts as a timeout (wrk's --timeout).
REQUEST_TIMEOUT = 10
SETTLE_SECONDS = 30

# A common word (issue 12): in most releases, so ranking has the most candidates to read.
SEARCH_TERM = "сотрудничество"
PAGES = {  # name -> path (the detail path is chosen after seeding)
    "floor": "/bench/floor",
    "list page 1": "/ru/news/",
    "list page 200": "/ru/news/?page=200",
    "detail": None,
    "RSS feed": "/ru/news/rss/",
    "search": "/ru/news/search/?q=" + urllib.parse.quote(SEARCH_TERM),
    "sitemap": "/sitemap.xml",  # the index
    "sitemap page": "/sitemap-releases.xml",  # its first page: 2,500 releases, <= 5,000 URLs
}
TARGETS_NOTE = (
    "Targets (issue 12): warm list, detail and feed >= 0.6 of the floor; cold list page 1, "
    "page 200 and feed >= 0.15, cold detail >= 0.2; search p99 < 50 ms for a common word; "
    "<= 4 SQL queries per cold page, 0 per warm one; worker memory < 100 MB; seeding 10,000 "
    "releases < 20 s."
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# Plain-text releases in the shape of the sample (README, "Import format") -----------------

PUBLISHER = "Исполнительный комитет Содружества Независимых Государств"
TITLES = [
    "Исполнительный комитет СНГ и {org} договорились о сотрудничестве на {y} – {y2} годы",
    "В Минске прошло заседание Совета руководителей {body}",
    "Эксперты государств – участников СНГ обсудили проект соглашения о {topic}",
]
ORGS = ["Администрация МОМ", "ЮНЕСКО", "ЕЭК ООН", "ОБСЕ", "ВОЗ"]
BODIES = ["миграционных органов", "таможенных служб", "статистических служб"]
TOPICS = ["миграции", "транспортных коридорах", "научном сотрудничестве", "охране здоровья"]
PARAGRAPHS = [
    "Подписание очередного Плана по реализации Меморандума о взаимопонимании и сотрудничестве "
    "между двумя организациями состоялось {d} декабря в Минске.",
    "Как отметил на встрече заместитель Председателя Исполнительного комитета, регулярные "
    "партнерские контакты установились достаточно давно, а сотрудничество стало более "
    "конкретным и имеет практическую направленность.",
    "«Сегодня мы продолжаем развивать взаимоотношения между рабочими органами наших "
    "международных организаций», — подчеркнул он.",
    "Ежегодно на базе Международного учебного центра в Минске проходят обучение специалисты "
    "изо всех государств – участников Содружества.",
    "Планируется, что в будущем количество подобных семинаров будет увеличено.",
]


def write_import_files(folder: Path, count: int) -> None:
    for n in range(count):
        title = TITLES[n % len(TITLES)].format(
            org=ORGS[n % len(ORGS)],
            body=BODIES[n % len(BODIES)],
            topic=TOPICS[n % len(TOPICS)],
            y=2000 + n % 20,
            y2=2001 + n % 20,
        )
        paragraphs = [p.format(d=1 + n % 28) for p in PARAGRAPHS[: 3 + n % 3]]
        text = "\n\n".join(
            [
                PUBLISHER,
                f"{title} (№ {n + 1})",
                *paragraphs,
                "\xa0",
                "Пресс-служба Исполнительного комитета СНГ",
                f"\nАдрес страницы в интернете: https://bench.example.org/news/{n + 1}",
            ]
        )
        (folder / f"{n:04d}.txt").write_text(text + "\n", encoding="utf-8")


# Load generation ---------------------------------------------------------------------------


def parse_wrk(output: str) -> dict:
    def seconds(value: str, unit: str) -> float:
        return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    requests = re.search(r"(\d+) requests in", output)
    if not rps or not requests:
        raise BenchError(f"cannot read wrk's output:\n{output}")
    result = {"rps": float(rps.group(1)), "requests": int(requests.group(1))}
    for name, key in (("50%", "p50_ms"), ("90%", "p90_ms"), ("99%", "p99_ms")):
        found = re.search(rf"^\s+{re.escape(name)}\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        measured = found and result["requests"] > 0
        result[key] = round(seconds(*found.groups()) * 1000, 2) if measured else None
    timeouts = re.search(r"Socket errors:.*timeout (\d+)", output)
    result["timeouts"] = int(timeouts.group(1)) if timeouts else 0
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    result["errors"] = int(errors.group(1)) if errors else 0
    result["socket_errors"] = socket_errors.group(1).strip() if socket_errors else ""
    return result


def python_load(url: str, duration: int, connections: int) -> dict:
    """A bounded load generator for machines without wrk: `connections` threads, each sending
    requests one after another until `duration` seconds or MAX_REQUESTS_PER_RUN in all."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + duration
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def worker():
        nonlocal errors
        while time.monotonic() < deadline:
            with lock:
                if len(latencies) + errors >= MAX_REQUESTS_PER_RUN:
                    return
            started = time.monotonic()
            try:
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                conn.close()
                ok = response.status < 400
            except OSError:
                ok = False
            with lock:
                if ok:
                    latencies.append(time.monotonic() - started)
                else:
                    errors += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + 15)
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)

    return {
        "rps": round(len(latencies) / elapsed, 2),
        "requests": len(latencies),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "errors": errors,
        "timeouts": 0,
        "socket_errors": "",
    }


# The harness -------------------------------------------------------------------------------


class Harness:
    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="press-bench-"))
        self.servers: dict[str, subprocess.Popen] = {}
        self.db_created = False
        self.redis = None
        self.wrk = shutil.which("wrk")
        self.results: dict = {
            "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "config": {
                "releases": COUNT,
                "import_files": IMPORT_FILES,
                "rounds": ROUNDS,
                "duration_s": DURATION,
                "connections": CONNECTIONS,
            },
        }
        self.ports = {"cold": PORT, "warm": PORT + 1}
        self.redis_dbs = {"cold": REDIS_DB, "warm": REDIS_DB + 1}
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "BENCH_FLOOR": "1",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": f"{PG_URL}/{DB_NAME}",
            "DB_CONN_MAX_AGE": "600",
            "STATIC_ROOT": str(self.tmp / "static"),
            "MEDIA_ROOT": str(self.tmp / "media"),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "EMAIL_URL": "consolemail://",
            "LOG_LEVEL": "ERROR",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.env.pop("PAGE_CACHE_SECONDS", None)

    # Set-up and tear-down ----------------------------------------------------------------

    def manage(self, *args: str, timeout: int = 600, env: dict | None = None) -> str:
        command = [sys.executable, "manage.py", *args]
        result = subprocess.run(
            command,
            cwd=ROOT,
            env=env or self.server_env("cold"),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise BenchError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def check_tools(self) -> None:
        if not self.wrk and os.geteuid() == 0 and shutil.which("apt-get"):
            log("wrk is missing: installing it from Debian (apt-get install -y wrk)")
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"],
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
                capture_output=True,
                timeout=300,
                check=False,
            )
            self.wrk = shutil.which("wrk")
        if not self.wrk:
            log("wrk is not available: using the bounded Python load generator")
        if not (BIN / "gunicorn").exists():
            raise BenchError(f"gunicorn is not installed in {BIN} (make install)")
        for name, port in self.ports.items():
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    raise BenchError(f"port {port} ({name} server) is already in use")
        self.results["load_generator"] = "wrk" if self.wrk else "python"

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(f"{PG_URL}/postgres", autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        self.db_created = True
        log(f"database {DB_NAME} created")

    def drop_database(self) -> None:
        import psycopg

        with psycopg.connect(f"{PG_URL}/postgres", autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        self.db_created = False
        log(f"database {DB_NAME} dropped")

    def flush_redis(self) -> None:
        import redis

        if self.redis is None:
            self.redis = [
                redis.Redis.from_url(f"{REDIS_URL}/{number}", socket_timeout=5)
                for number in self.redis_dbs.values()
            ]
        for client in self.redis:
            client.flushdb()

    def server_env(self, name: str) -> dict:
        return {
            **self.env,
            "SITE_URL": f"http://127.0.0.1:{self.ports[name]}",
            "CACHE_URL": f"{REDIS_URL}/{self.redis_dbs[name]}",
        }

    def start_server(self, name: str, extra_env: dict) -> None:
        port = self.ports[name]
        env = {**self.server_env(name), **extra_env}
        log_file = (self.tmp / f"gunicorn-{name}.log").open("w")
        process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                *("--config", str(ROOT / "bench" / "gunicorn.conf.py")),
                *("--bind", f"127.0.0.1:{port}"),
                "pressservice.wsgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.servers[name] = process
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BenchError(f"gunicorn ({name}) exited:\n{self.server_log(name)}")
            try:
                status, _, _ = self.get(name, "/healthz")
                if status == 200:
                    log(f"gunicorn ({name}) serving on 127.0.0.1:{port}, pid {process.pid}")
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise BenchError(f"gunicorn ({name}) did not answer /healthz in 60 s")

    def server_log(self, name: str) -> str:
        path = self.tmp / f"gunicorn-{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop_servers(self) -> None:
        for name, process in list(self.servers.items()):
            if process.poll() is None:
                process.terminate()  # gunicorn's graceful stop of master and workers
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(10)
            log(f"gunicorn ({name}) stopped")
            del self.servers[name]

    def cleanup(self) -> None:
        for step in (self.stop_servers, self.drop_database_if_created, self.flush_redis_quietly):
            try:
                step()
            except Exception as exc:  # clean up as much as possible, whatever failed
                log(f"clean-up step {step.__name__} failed: {exc}")
        shutil.rmtree(self.tmp, ignore_errors=True)

    def drop_database_if_created(self) -> None:
        if self.db_created:
            self.drop_database()

    def flush_redis_quietly(self) -> None:
        if self.redis is not None:
            self.flush_redis()

    # HTTP --------------------------------------------------------------------------------

    def get(self, server: str, path: str, timeout: float = 120) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.ports[server], timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def load(self, server: str, path: str) -> dict:
        url = f"http://127.0.0.1:{self.ports[server]}{path}"
        if not self.wrk:
            result = python_load(url, DURATION, CONNECTIONS)
        else:
            command = [
                self.wrk, "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--timeout",
                f"{REQUEST_TIMEOUT}s", "--latency", url,
            ]  # fmt: skip
            completed = subprocess.run(
                command, capture_output=True, text=True, timeout=DURATION + 60, check=False
            )
            if completed.returncode != 0:
                raise BenchError(f"wrk failed on {url}:\n{completed.stdout}\n{completed.stderr}")
            result = parse_wrk(completed.stdout)
        self.settle(server)
        return result

    def settle(self, server: str) -> None:
        """Wait (at most SETTLE_SECONDS) until the requests the load generator left behind
        are done, so that a slow page does not slow the next measurement down: two quick
        answers from the floor in a row."""
        deadline = time.monotonic() + SETTLE_SECONDS
        quick = 0
        while quick < 2 and time.monotonic() < deadline:
            started = time.monotonic()
            try:
                self.get(server, PAGES["floor"], timeout=max(1, deadline - started))
            except TimeoutError:
                break
            quick = quick + 1 if time.monotonic() - started < 0.05 else 0

    # Steps -------------------------------------------------------------------------------

    def prepare_data(self) -> None:
        log("migrating")
        self.manage("migrate", "--noinput")
        log("collecting static files")
        self.manage("collectstatic", "--noinput")
        log(f"seeding {COUNT} releases")
        started = time.perf_counter()
        output = self.manage("seed_demo", "--count", str(COUNT), timeout=1200)
        wall = time.perf_counter() - started
        own = re.search(r"created in ([\d.]+) s", output)
        self.results["seed"] = {
            "releases": COUNT,
            "wall_s": round(wall, 2),
            "command_s": float(own.group(1)) if own else None,
        }
        log(f"seeded in {wall:.1f} s (the command's own time: {own and own.group(1)} s)")

        folder = self.tmp / "import"
        folder.mkdir()
        write_import_files(folder, IMPORT_FILES)
        log(f"importing {IMPORT_FILES} plain-text files")
        started = time.perf_counter()
        output = self.manage(
            "import_releases", str(folder), "--published-at", "2011-12-14T10:00+03:00",
            "--verbosity", "0", timeout=1200,
        )  # fmt: skip
        wall = time.perf_counter() - started
        self.results["import"] = {"files": IMPORT_FILES, "wall_s": round(wall, 2)}
        log(f"imported in {wall:.1f} s")

        # Autovacuum would vacuum and analyse the freshly loaded tables within a minute or so;
        # until it has, the planner has no statistics (and index-only scans no visibility map)
        # and picks bad plans. Do it now, so that every run measures the same steady state.
        import psycopg

        with psycopg.connect(f"{PG_URL}/{DB_NAME}", autocommit=True, connect_timeout=10) as conn:
            conn.execute("VACUUM ANALYZE")
        output = self.manage(
            "shell",
            "-c",
            "from news.models import Release; "
            "qs = Release.objects.published('ru').order_by('-published_at', '-id'); "
            "n = qs.count(); print('BENCH-DETAIL', n, qs[n // 2].get_absolute_url('ru'))",
        )
        found = re.search(r"^BENCH-DETAIL (\d+) (\S+)$", output, re.M)
        if not found:
            raise BenchError(f"cannot pick a release for the detail page:\n{output}")
        self.results["published_ru"] = int(found.group(1))
        PAGES["detail"] = found.group(2)
        last_page = max(1, self.results["published_ru"] // 20)
        if last_page < 200:  # a small BENCH_COUNT: the deepest page there is
            log(f"only {last_page} list pages: 'list page 200' measures page {last_page}")
            PAGES["list page 200"] = f"/ru/news/?page={last_page}"

    def check_pages(self) -> None:
        sizes = {}
        for server in self.ports:
            for name, path in PAGES.items():
                status, _headers, body = self.get(server, path)
                if status != 200:
                    raise BenchError(
                        f"{name} ({path}) answers {status} on the {server} server:\n"
                        f"{body[:500]!r}\n{self.server_log(server)}"
                    )
                sizes[name] = len(body)
        self.results["pages"] = dict(PAGES)
        self.results["response_bytes"] = sizes

    def count_queries(self) -> None:
        """SQL queries per request (X-Bench-Queries): cold = page cache off, in the steady
        state (the most requests 2 and 3 needed; the first may also fill per-process or
        per-generation caches); warm = a cache hit."""
        queries = {}
        for name, path in PAGES.items():
            cold = [int(self.get("cold", path)[1]["X-Bench-Queries"]) for _ in range(3)]
            self.get("warm", path)
            warm = [int(self.get("warm", path)[1]["X-Bench-Queries"]) for _ in range(2)]
            queries[name] = {
                "cold": max(cold[1:]),
                "cold_first": cold[0],
                "warm": max(warm),
            }
        self.results["queries"] = queries

    def measure(self) -> None:
        """Rounds: the floor on both servers, then every page cold and warm in turn, then the
        floor again; a page's ratio is to the mean of the two floors of its round and server,
        so that load from other processes on the machine shifts both alike."""
        runs: dict[str, dict[str, list[dict]]] = {name: {"cold": [], "warm": []} for name in PAGES}
        pages = [name for name in PAGES if name != "floor"]
        for round_number in range(1, ROUNDS + 1):
            log(f"round {round_number}/{ROUNDS}")
            floors = {server: [self.load(server, PAGES["floor"])] for server in self.ports}
            measured = []
            for name in pages:
                for server in self.ports:
                    if server == "warm":
                        self.get("warm", PAGES[name])  # make sure the page is in the cache
                    measured.append((name, server, self.load(server, PAGES[name])))
            for server in self.ports:
                floors[server].append(self.load(server, PAGES["floor"]))
                floor = {
                    "round": round_number,
                    "rps": round(statistics.mean(f["rps"] for f in floors[server]), 1),
                    "p50_ms": max_of(floors[server], "p50_ms"),
                    "p99_ms": max_of(floors[server], "p99_ms"),
                    "errors": sum(f["errors"] for f in floors[server]),
                    "runs": floors[server],
                }
                runs["floor"][server].append(floor)
            for name, server, result in measured:
                floor_rps = runs["floor"][server][-1]["rps"]
                result["round"] = round_number
                result["ratio"] = round(result["rps"] / floor_rps, 3)
                runs[name][server].append(result)
                log(
                    f"  {server:4} {name:14} {result['rps']:8.1f} req/s "
                    f"({result['ratio']:.3f} of floor {floor_rps:.1f}), p99 {result['p99_ms']} ms"
                )
        self.results["runs"] = runs

    def worker_memory(self) -> None:
        """Peak resident memory (VmHWM) of every gunicorn worker in MB, and its proportional
        share (PSS, shared pages of the preloaded application split between processes)."""
        peaks, shares = {}, {}
        for name, process in self.servers.items():
            for pid in child_pids(process.pid):
                status = Path(f"/proc/{pid}/status").read_text()
                found = re.search(r"VmHWM:\s+(\d+) kB", status)
                if found:
                    peaks[f"{name}:{pid}"] = round(int(found.group(1)) / 1024, 1)
                rollup = Path(f"/proc/{pid}/smaps_rollup")
                if rollup.exists():
                    pss = re.search(r"^Pss:\s+(\d+) kB", rollup.read_text(), re.M)
                    if pss:
                        shares[f"{name}:{pid}"] = round(int(pss.group(1)) / 1024, 1)
        self.results["worker_peak_rss_mb"] = peaks
        self.results["worker_pss_mb"] = shares

    def run(self) -> None:
        self.check_tools()
        self.create_database()
        self.flush_redis()
        self.prepare_data()
        self.start_server("cold", {"PAGE_CACHE_SECONDS": "0"})
        self.start_server("warm", {})
        self.check_pages()
        self.count_queries()
        self.measure()
        self.worker_memory()
        self.summarise()

    # Report ------------------------------------------------------------------------------

    def summarise(self) -> None:
        runs = self.results["runs"]
        summary = {}
        for name in PAGES:
            row = {}
            for server in ("cold", "warm"):
                results = runs[name][server]
                row[server] = {
                    "rps": round(statistics.median(r["rps"] for r in results), 1),
                    "ratio": (
                        round(statistics.median(r["ratio"] for r in results), 3)
                        if name != "floor"
                        else 1.0
                    ),
                    "p50_ms": median_of(results, "p50_ms"),
                    "p99_ms": median_of(results, "p99_ms"),
                    "errors": sum(r["errors"] for r in results),
                    "timeouts": sum(r.get("timeouts", 0) for r in results),
                }
            summary[name] = row
        self.results["summary"] = summary
        self.results["targets"] = self.targets(summary)
        self.results["finished_at"] = datetime.datetime.now(datetime.UTC).isoformat(
            timespec="seconds"
        )

    def targets(self, summary: dict) -> list[dict]:
        queries = self.results["queries"]
        peak = max(self.results["worker_peak_rss_mb"].values(), default=0)
        seed = self.results["seed"]["command_s"] or self.results["seed"]["wall_s"]
        seed_limit = 20 * COUNT / 10_000

        def cold_rps(name: str) -> float:
            return summary[name]["cold"]["rps"]

        checks = [
            *(
                (f"warm {n} >= 0.6 of floor", summary[n]["warm"]["ratio"], ">=", 0.6)
                for n in ("list page 1", "detail", "RSS feed")
            ),
            ("cold list page 1 >= 0.15", summary["list page 1"]["cold"]["ratio"], ">=", 0.15),
            ("cold RSS feed >= 0.15", summary["RSS feed"]["cold"]["ratio"], ">=", 0.15),
            ("cold detail >= 0.2", summary["detail"]["cold"]["ratio"], ">=", 0.2),
            ("cold list page 200 >= 0.15", summary["list page 200"]["cold"]["ratio"], ">=", 0.15),
            (
                "cold page 200 within 1.5x of page 1 (req/s ratio)",
                round(cold_rps("list page 200") / cold_rps("list page 1"), 3),
                ">=",
                round(1 / 1.5, 3),
            ),
            (
                f"search p99 (cold, {SEARCH_TERM!r}) < 50 ms",
                summary["search"]["cold"]["p99_ms"],
                "<",
                50,
            ),
            (
                "SQL per cold page <= 4",
                max(q["cold"] for n, q in queries.items() if n != "floor"),
                "<=",
                4,
            ),
            ("SQL per warm page = 0", max(q["warm"] for n, q in queries.items()), "<=", 0),
            ("peak worker memory < 100 MB", peak, "<", 100),
            # The target is a rate (20 s for 10,000), so it scales with BENCH_COUNT.
            (f"seeding {COUNT} releases < {seed_limit:g} s", seed, "<", seed_limit),
        ]  # fmt: skip
        compare = {">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}
        return [
            {
                "target": label,
                "measured": value,
                "limit": f"{op} {limit}",
                "met": value is not None and compare[op](value, limit),
            }
            for label, value, op, limit in checks
        ]

    def markdown(self) -> str:
        summary, queries = self.results["summary"], self.results["queries"]
        lines = [
            f"Releases: {COUNT:,} seeded + {IMPORT_FILES:,} imported "
            f"({self.results['published_ru']:,} public in Russian); {ROUNDS} interleaved rounds "
            f"of {DURATION} s per page, {CONNECTIONS} connections, "
            f"{self.results['load_generator']}; medians. Ratio = req/s of the page / req/s of "
            "the floor (fixed 20 KB page) in the same round on the same server.",
            "",
            "| page | cold req/s | cold ratio | cold p99 ms | SQL cold | warm req/s "
            "| warm ratio | warm p99 ms | SQL warm |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name in PAGES:
            cold, warm, q = summary[name]["cold"], summary[name]["warm"], queries[name]
            lines.append(
                f"| {name} | {rate(cold['rps'])} | {cold['ratio']:.3f} | {ms(cold['p99_ms'])} "
                f"| {q['cold']} | {rate(warm['rps'])} | {warm['ratio']:.3f} "
                f"| {ms(warm['p99_ms'])} | {q['warm']} |"
            )
        seed, imported = self.results["seed"], self.results["import"]
        peak = max(self.results["worker_peak_rss_mb"].values(), default=0)
        pss = max(self.results["worker_pss_mb"].values(), default=0)
        lines += [
            "",
            f"Seeding {seed['releases']:,} releases: {seed['command_s']} s "
            f"(whole command {seed['wall_s']} s). Importing {imported['files']:,} plain-text "
            f"files (published): {imported['wall_s']} s. Peak worker memory (VmHWM, peak RSS): "
            f"{peak} MB (PSS at the end, shared pages split: {pss} MB).",
            "",
            "| target | measured | limit | met |",
            "|---|---:|---|---|",
        ]
        for target in self.results["targets"]:
            lines.append(
                f"| {target['target']} | {target['measured']} | {target['limit']} "
                f"| {'yes' if target['met'] else '**no**'} |"
            )
        errors = sum(summary[n][s]["errors"] for n in PAGES for s in ("cold", "warm"))
        if errors:
            lines += ["", f"**{errors} responses were not 2xx/3xx during the load runs.**"]
        timeouts = {
            f"{n} ({s})": summary[n][s]["timeouts"]
            for n in PAGES
            for s in ("cold", "warm")
            if summary[n][s]["timeouts"]
        }
        if timeouts:
            listed = ", ".join(f"{k}: {v}" for k, v in timeouts.items())
            lines += ["", f"Requests slower than {REQUEST_TIMEOUT} s (not counted): {listed}."]
        return "\n".join(lines)


def rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"


def max_of(results: list[dict], key: str) -> float | None:
    values = [r[key] for r in results if r.get(key) is not None]
    return max(values) if values else None


def median_of(results: list[dict], key: str) -> float | None:
    values = [r[key] for r in results if r.get(key) is not None]
    return round(statistics.median(values), 2) if values else None


def child_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        return [int(p) for p in children.read_text().split()]
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def main() -> int:
    harness = Harness()

    def stop(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    started = time.monotonic()
    try:
        harness.run()
    except KeyboardInterrupt as exc:
        log(f"interrupted ({exc}); cleaning up")
        return 130
    except (BenchError, subprocess.TimeoutExpired, OSError) as exc:
        log(f"FAILED: {exc}")
        return 1
    finally:
        harness.cleanup()
    harness.results["total_s"] = round(time.monotonic() - started, 1)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench.json").write_text(
        json.dumps(harness.results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(harness.markdown())
    log(f"done in {harness.results['total_s']} s; JSON: {RESULTS / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
