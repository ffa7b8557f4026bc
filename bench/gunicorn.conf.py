"""gunicorn for the benchmark (instead of the deployment's ./gunicorn.conf.py): the set-up the
issue fixes for comparison, 2 sync workers, with the application preloaded as in production.
No access log and no worker recycling, so neither skews the figures or the memory peak."""

workers = 2
worker_class = "sync"
preload_app = True
timeout = 60
max_requests = 0
accesslog = None
errorlog = "-"
loglevel = "warning"
