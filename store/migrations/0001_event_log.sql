-- Schema version 1: the append-only event log, the store's source of truth.
-- seq: strictly increasing, never reused (AUTOINCREMENT), even after a checkpoint
-- deletes the newest rows. Sample events (kind 2) carry the chunk window they fall in
-- and their time span so checkpoints and reads can find them without decoding.
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  time_ms INTEGER NOT NULL,
  source TEXT NOT NULL,
  kind INTEGER NOT NULL,
  window_start_ms INTEGER,
  min_time_ms INTEGER,
  max_time_ms INTEGER,
  sample_count INTEGER,
  payload BLOB NOT NULL
);
CREATE INDEX events_by_kind ON events(kind, window_start_ms);
