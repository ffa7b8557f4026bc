"""gunicorn settings for the press service (see README, "Deployment").

Every value can be changed from the environment without editing this file:
GUNICORN_BIND, GUNICORN_WORKERS, GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_MAX_REQUESTS.
"""

import multiprocessing
import os

wsgi_app = "pressservice.wsgi:application"

# Behind nginx on the same machine: listen on loopback only.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9)))
# gthread: a few threads per worker absorb slow clients and database waits.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))

# A request that takes longer is killed and logged; nginx's proxy_read_timeout is higher.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5

# Recycle workers now and then so that a slow leak never grows without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 2000))
max_requests_jitter = max_requests // 10

# Django validates Host; gunicorn only bounds what it parses before Django sees it.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# X-Forwarded-Proto/For are trusted only from the local nginx.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# GUNICORN_ACCESSLOG= (empty) turns the access log off.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# No query strings in the access log: search terms and preview tokens stay out of it.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'

# No control socket: it would live in the service user's home (read-only under systemd's
# ProtectHome) and two instances on one machine would share its path.
control_socket_disable = True

# Load the application before forking: a broken configuration fails at start, loudly.
preload_app = True
