-- pg_schema.sql - the posts table for the PostgreSQL peer. Run by bench/run
-- inside the same transaction as the COPY that fills it: with
-- wal_level=minimal PostgreSQL then skips WAL for the load, its fastest path.
-- The tsvector is a generated column, so the load pays for the text
-- analysis (as cxsearch's indexer does); each post is analyzed with the
-- configuration of its own language; unknown languages use 'simple'.
CREATE TABLE posts (
    id      integer PRIMARY KEY,
    ext_id  text NOT NULL,
    lang    text NOT NULL,
    channel text NOT NULL,
    date    timestamptz,
    text    text NOT NULL,
    tsv     tsvector GENERATED ALWAYS AS (
        to_tsvector(CASE lang WHEN 'ru' THEN 'russian'::regconfig
                              WHEN 'it' THEN 'italian'::regconfig
                              WHEN 'en' THEN 'english'::regconfig
                              ELSE 'simple'::regconfig END, text)) STORED
);
