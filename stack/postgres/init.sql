-- Runs once, when the postgres data volume is first initialised.
CREATE TABLE visitors (
    site_id       integer PRIMARY KEY,
    site_name     text    NOT NULL,
    visitor_count bigint  NOT NULL DEFAULT 0
);
INSERT INTO visitors (site_id, site_name, visitor_count) VALUES (1, 'linodeexample.com', 0);

-- One row per counted request, written in the same transaction as the increment: after a crash the
-- app looks a request up here instead of guessing whether it was counted. Pruned after 10 minutes.
CREATE TABLE hits (
    request_id    uuid        PRIMARY KEY,
    visitor_count bigint      NOT NULL,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hits_at ON hits (at);
