CREATE TABLE applied (
    event_id uuid NOT NULL,
    unit_id  text NOT NULL,
    score    text NOT NULL
);
