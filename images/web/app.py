"""Visitor counter: Postgres holds the durable count, Redis a cached copy that only moves forward.

Every hit is one atomic `UPDATE ... RETURNING` in Postgres, so N concurrent requests add exactly N
and a count acknowledged to a client survives any crash. Each hit carries a request id recorded in
the same transaction (nginx's, which it keeps when it retries a request on another replica), so when
Postgres or a replica dies mid-request the outcome is looked up instead of being guessed: nothing is
counted twice and nothing acknowledged is lost.
Redis is refreshed with the returned value by a compare-and-set script, so it never goes backwards
and re-seeds itself from Postgres on the first request after it comes back. When Redis is down,
requests still succeed.
"""
import logging
import os
import socket
import sys
import threading
import time
import uuid

import psycopg2
import psycopg2.errors
import redis
from flask import Flask, request

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


# One connection per gunicorn thread, kept for the worker's life: a request never waits for a
# connection or pays for opening one (a pool that closes what it lends beyond its minimum made
# Postgres fork a backend for most requests under load). A broken connection is replaced.
_local = threading.local()


def _connect():
    conn = psycopg2.connect(
        host=os.environ.get("POSTGRES_HOST", "postgres"),
        dbname=os.environ.get("POSTGRES_DB", "linode"),
        user=os.environ.get("POSTGRES_USER", "postgres"),
        password=_password(),
        connect_timeout=3,
    )
    # Each statement the app sends is a whole transaction on its own: autocommit saves the BEGIN and
    # COMMIT round trips, and the row lock on the counter is held only while Postgres commits.
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(PREPARE_INCREMENT)
    return conn


def pg(sql, params=()):
    """Runs one statement as its own transaction on this thread's connection (a broken one is dropped)."""
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = _connect()
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone() if cur.description else None
    except (psycopg2.OperationalError, psycopg2.InterfaceError):
        _local.conn = None
        conn.close()
        raise


# Prepared once per connection: the statement is parsed and planned once, not on every visit.
PREPARE_INCREMENT = """
PREPARE increment(integer, uuid) AS
WITH inc AS (
    UPDATE visitors SET visitor_count = visitor_count + 1 WHERE site_id = $1 RETURNING visitor_count
)
INSERT INTO hits (request_id, visitor_count) SELECT $2, visitor_count FROM inc RETURNING visitor_count
"""
INCREMENT = "EXECUTE increment(%(site)s, %(rid)s)"
# How long one request keeps retrying while Postgres restarts (nginx waits 25 s, then asks another replica).
RETRY_BUDGET = float(os.environ.get("POSTGRES_RETRY_SECONDS", "20"))
_last_prune = 0.0


def request_id():
    """The id this visit is counted under. nginx sends one per client request and keeps it when it
    retries the request on another replica (one that went away mid-request may have counted it
    already): the second replica finds the visit recorded instead of counting it again."""
    try:
        return str(uuid.UUID(hex=request.headers.get("X-Request-Id", "")))
    except ValueError:
        return str(uuid.uuid4())


def count_hit(rid):
    """Adds exactly one visit under id `rid` (once, however often it is asked) and returns the
    count it made, retrying through a Postgres restart."""
    global _last_prune
    deadline = time.monotonic() + RETRY_BUDGET
    first = True
    while True:
        try:
            if not first:
                # The previous attempt may have committed before the connection died: look first.
                row = pg("SELECT visitor_count FROM hits WHERE request_id = %s", (rid,))
                if row:
                    return row[0]
            first = False
            try:
                (count,) = pg(INCREMENT, {"site": SITE_ID, "rid": rid})
            except psycopg2.errors.UniqueViolation:
                continue  # the earlier attempt did commit; the lookup above returns its count
            if time.monotonic() - _last_prune > 60:
                _last_prune = time.monotonic()
                pg("DELETE FROM hits WHERE at < now() - interval '10 minutes'")
            return count
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as e:
            if time.monotonic() > deadline:
                raise
            log.warning("postgres unavailable, retrying: %s", str(e).strip())
            time.sleep(0.25)


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
        count = count_hit(request_id())
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
