-- Robots are paced per robot, not per channel (R5: 20 messages a minute each): two recipients'
-- channels may share one robot URL. pace_key is a digest of the robot URL (channels.pace_key),
-- never the URL itself, whose query holds the robot's key. Attempts logged before this column
-- have none: for one rate window after the upgrade they are not counted.
ALTER TABLE delivery_attempts ADD COLUMN pace_key text;
CREATE INDEX delivery_attempts_by_pace_key ON delivery_attempts (pace_key, at)
    WHERE pace_key IS NOT NULL;
