-- Runs once, when the postgres data volume is first initialised (later starts skip /docker-entrypoint-initdb.d).
-- Temporal's auto-setup creates its own databases (temporal, temporal_visibility); the application gets this one.
CREATE DATABASE innosocial;
