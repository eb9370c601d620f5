-- pg_queries.sql - the query set as a table, so pgbench can pick a random
-- query by id (pgbench has no way to read lines of a file). Each query
-- carries the text search configuration of its language, as a user who
-- knows the language of the question would pass it.
CREATE TABLE queries (
    id   integer PRIMARY KEY,
    lang text NOT NULL,
    kind text NOT NULL,
    q    text NOT NULL,
    cfg  regconfig GENERATED ALWAYS AS (
        CASE lang WHEN 'ru' THEN 'russian'::regconfig
                  WHEN 'it' THEN 'italian'::regconfig
                  WHEN 'en' THEN 'english'::regconfig
                  ELSE 'simple'::regconfig END) STORED
);
