-- An edition's 10,000 history rows are written by one statement right after the edition's own
-- row, in the same transaction, from the same message (store.save_edition), and editions are
-- never deleted. The foreign key checked each row against that row again, one lookup and lock
-- each: half of the rows' cost (~60 ms at 10,000 units) for a fact the writer already ensures
-- (tests/integration/ranking/test_editions_over_the_bus.py reads a unit's history back).
ALTER TABLE edition_units DROP CONSTRAINT edition_units_year_number_revision_fkey;
