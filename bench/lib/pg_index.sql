-- pg_index.sql - the GIN index over the generated tsvector, then statistics
-- for the planner. Timed by bench/run as the second half of PostgreSQL's
-- build (load + index).
CREATE INDEX posts_tsv_gin ON posts USING gin (tsv);
ANALYZE posts;
