"""Visitor counter: Postgres holds the durable count, Redis a cached copy that only moves forward.

Every hit is one atomic `UPDATE ... RETURNING` in Postgres, so N concurrent requests add exactly N
and a count acknowledged to a client survives any crash. Redis is refreshed with the returned value
by a compare-and-set script, so it never goes backwards and re-seeds itself from Postgres on the
first request after it comes back. When Redis is down, requests still succeed.
"""
import logging
import os
import socket
import sys
import threading
import time

import psycopg2
import psycopg2.pool
import redis
from flask import Flask

app = Flask(__name__)
log = logging.getLogger("visitors")
logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(levelname)s %(message)s")

HOSTNAME = socket.gethostname()
SITE_ID = 1


def _password():
    path = os.environ.get("POSTGRES_PASSWORD_FILE")
    if path:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    return os.environ.get("POSTGRES_PASSWORD", "")


_pool = None
_pool_lock = threading.Lock()


def pool():
    """One small pool per worker process, created lazily (after gunicorn forks)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = psycopg2.pool.ThreadedConnectionPool(
                1,
                int(os.environ.get("WEB_THREADS", "4")),
                host=os.environ.get("POSTGRES_HOST", "postgres"),
                dbname=os.environ.get("POSTGRES_DB", "linode"),
                user=os.environ.get("POSTGRES_USER", "postgres"),
                password=_password(),
                connect_timeout=3,
            )
        return _pool


def pg(sql, params=()):
    """Runs one statement in its own transaction; a broken pooled connection is replaced once."""
    for attempt in (1, 2):
        conn = pool().getconn()
        broken = False
        try:
            with conn:
                with conn.cursor() as cur:
                    cur.execute(sql, params)
                    return cur.fetchone() if cur.description else None
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            broken = True
            if attempt == 2:
                raise
        finally:
            pool().putconn(conn, close=broken or conn.closed != 0)


cache = redis.Redis(
    host=os.environ.get("REDIS_HOST", "redis"),
    port=6379,
    socket_timeout=0.5,
    socket_connect_timeout=0.5,
)
# Set the cached count only if the new value is larger: concurrent writers and a Redis that lost its
# data both converge on the Postgres value without ever moving backwards.
RAISE_TO = cache.register_script(
    "local cur = tonumber(redis.call('GET', KEYS[1]) or '-1') "
    "local new = tonumber(ARGV[1]) "
    "if new > cur then redis.call('SET', KEYS[1], ARGV[1]) end return new"
)
_redis_down_until = 0.0


def redis_call(fn):
    """Calls Redis unless it failed in the last second; failures are logged, never raised."""
    global _redis_down_until
    if time.monotonic() < _redis_down_until:
        return None
    try:
        return fn()
    except redis.RedisError as e:
        _redis_down_until = time.monotonic() + 1.0
        log.warning("redis unavailable, serving from postgres: %s", e)
        return None


@app.after_request
def served_by(resp):
    resp.headers["X-Served-By"] = HOSTNAME
    return resp


@app.route("/")
def hello():
    try:
        (count,) = pg(
            "UPDATE visitors SET visitor_count = visitor_count + 1 WHERE site_id = %s RETURNING visitor_count",
            (SITE_ID,),
        )
    except psycopg2.Error as e:
        log.error("postgres unavailable: %s", e)
        return "Service temporarily unavailable, please retry.\n", 503
    redis_call(lambda: RAISE_TO(keys=["visitor_count"], args=[count]))
    return "Hello Linode!  This page has been viewed %d time(s)." % count


@app.route("/resetcounter")
def resetcounter():
    try:
        pg("UPDATE visitors SET visitor_count = 0 WHERE site_id = %s", (SITE_ID,))
    except psycopg2.Error as e:
        log.error("postgres unavailable: %s", e)
        return "Service temporarily unavailable, please retry.\n", 503
    redis_call(lambda: cache.set("visitor_count", 0))
    log.info("visitor count reset")
    return "Successfully deleted redis and postgres counters"


@app.route("/healthz")
def healthz():
    return "ok"
