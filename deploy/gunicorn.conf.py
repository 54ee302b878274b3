"""gunicorn settings for one app host (deploy/systemd/studyhall.service runs
``gunicorn -c deploy/gunicorn.conf.py 'studyhall:create_app()'``).

Each value can be overridden from the environment file without editing this one:
STUDYHALL_BIND, STUDYHALL_WORKERS, STUDYHALL_TIMEOUT.
"""

import multiprocessing
import os

# The address nginx's upstream block names (one line per app host): STUDYHALL_BIND in the
# environment file, the host's private address, never a public one (nginx is the only
# client). Unset: this host only, for nginx on the same machine.
bind = os.environ.get("STUDYHALL_BIND", "127.0.0.1:8000")

# Sync workers: BENCHMARKS.md measured them ahead of gthread for the exam's saves (51–52%
# of a bare INSERT against 47–51%). One request at a time per worker, so a host serves
# `workers` requests at once; nginx buffers slow phones, so a worker never waits on one.
workers = int(os.environ.get("STUDYHALL_WORKERS", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"

# A request that runs longer is killed and answered 502 by nginx. Big exports run in a
# background thread and imports are capped (MAX_ROSTER_ROWS, MAX_QUESTION_ROWS) to stay
# well inside it.
timeout = int(os.environ.get("STUDYHALL_TIMEOUT", 30))
# On `systemctl reload` / restart, requests in flight get this long to finish.
graceful_timeout = 30
# A burst of 1,000 takers pressing Start at once queues here, not in refused connections.
backlog = 2048
# Workers are replaced after this many requests (with jitter, not all at once), which
# bounds any slow growth of a worker's memory.
max_requests = 5000
max_requests_jitter = 500

# The app is imported in each worker after the fork: no database connection or thread
# is shared between processes.
preload_app = False

# Logs go to the journal (stdout/stderr under systemd): `journalctl -u studyhall`.
accesslog = None
errorlog = "-"
loglevel = "warning"
