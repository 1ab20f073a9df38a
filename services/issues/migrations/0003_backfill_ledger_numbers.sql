-- R2.1: each backfilled record names its number in the office's original ledger; a record
-- already imported under that number is skipped by a repeated upload, never doubled.
ALTER TABLE issues ADD COLUMN ledger_number text UNIQUE;
