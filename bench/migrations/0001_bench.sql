CREATE TABLE scores (unit_id text NOT NULL, score text NOT NULL);
