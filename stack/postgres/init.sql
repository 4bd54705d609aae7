-- Runs once, when the postgres data volume is first initialised.
CREATE TABLE visitors (
    site_id       integer PRIMARY KEY,
    site_name     text    NOT NULL,
    visitor_count bigint  NOT NULL DEFAULT 0
);
INSERT INTO visitors (site_id, site_name, visitor_count) VALUES (1, 'linodeexample.com', 0);
