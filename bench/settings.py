"""Production settings, plus, with BENCH_FLOOR=1, the floor page and the query-count header.

Used only by `bench/run.py` (DJANGO_SETTINGS_MODULE=bench.settings); everything else is read
from the environment exactly as in production.
"""

import os

from pressservice.settings import *  # noqa: F403
from pressservice.settings import MIDDLEWARE

if os.environ.get("BENCH_FLOOR") == "1":
    ROOT_URLCONF = "bench.urls"
    MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]
