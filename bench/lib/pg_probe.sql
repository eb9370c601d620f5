-- pg_probe.sql - every query of the set once, one at a time, in id order,
-- as pg_search_snippets.pgbench runs it (ts_headline for each of the top
-- 10): milliseconds and rows per query into probe, for the report's table
-- by query kind. Timed inside the server (clock_timestamp), so the client
-- round trip (a fraction of a millisecond on loopback) is not counted;
-- sum(length(...)) keeps the planner from dropping the snippets.
CREATE TEMP TABLE probe (id integer, ms double precision, n integer);
DO $$
DECLARE
    r record;
    t0 timestamptz;
    found_n integer;
    chars bigint;
BEGIN
    FOR r IN SELECT id, cfg, q FROM queries ORDER BY id LOOP
        t0 := clock_timestamp();
        WITH q AS (SELECT r.cfg AS cfg, websearch_to_tsquery(r.cfg, r.q) AS tsq),
             top AS (SELECT p.id, p.text, ts_rank_cd(p.tsv, q.tsq) AS rank
                       FROM posts p, q WHERE p.tsv @@ q.tsq
                      ORDER BY rank DESC LIMIT 10)
        SELECT count(*), sum(length(ts_headline(q.cfg, top.text, q.tsq,
                   'MaxFragments=2, MaxWords=25, MinWords=10, StartSel=<mark>, StopSel=</mark>')))
          INTO found_n, chars FROM top, q;
        INSERT INTO probe VALUES (r.id,
            extract(epoch FROM clock_timestamp() - t0) * 1000.0, found_n);
    END LOOP;
END $$;
COPY (SELECT q.kind, p.ms, p.n FROM probe p JOIN queries q USING (id)
      ORDER BY p.id) TO STDOUT;
