# gunicorn settings: workers sized to the CPUs this container may use, threads for I/O waits,
# a graceful timeout so SIGTERM lets in-flight requests finish, errors on stdout.
import os

bind = "0.0.0.0:8000"
workers = int(os.environ.get("WEB_WORKERS") or len(os.sched_getaffinity(0)) or 1)
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
graceful_timeout = 10
timeout = 30
keepalive = 5
# nginx logs every request; a second line per request from each replica only costs CPU.
accesslog = None
errorlog = "-"
worker_tmp_dir = "/dev/shm"
