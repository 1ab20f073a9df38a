-- Publishing an edition writes one history row per ranked unit (10,000 at a time) and stages
-- two messages of megabytes; these are the costs of publication that grow with the units.
--
-- The history rows are only ever read back whole (or one field for the board): json, which
-- PostgreSQL only checks on the way in, is written about twice as fast as jsonb, which it
-- parses into a tree.
ALTER TABLE edition_units ALTER COLUMN row TYPE json USING row::json;

-- One b-tree instead of two: the key leads with the unit, as its history reads it; the board
-- reads whole editions through a BRIN index, which costs next to nothing to keep up because
-- rows arrive edition after edition.
ALTER TABLE edition_units DROP CONSTRAINT edition_units_pkey;
DROP INDEX edition_units_by_unit;
ALTER TABLE edition_units ADD PRIMARY KEY (unit_id, year, number, revision);
CREATE INDEX edition_units_by_edition ON edition_units USING brin (year, number, revision);

-- Outbox rows live until the relay has published them: compressing a 3 MB edition on the way
-- in (pglz, ~40 ms each) buys nothing. EXTERNAL keeps large payloads out of line, uncompressed.
ALTER TABLE outbox ALTER COLUMN payload SET STORAGE EXTERNAL;
