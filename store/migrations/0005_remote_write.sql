-- Schema version 5: Prometheus remote write driven by the event log (docs/remote-write.md).
-- IF NOT EXISTS: a store whose version was rewound by hand (tests simulating older
-- versions) keeps the tables; the migration is then a no-op.

-- One row per [remote_write.NAME] endpoint: the last event sent and acknowledged (2xx,
-- or a batch dropped on a permanent 4xx), and that event's time, for the cursor lag.
CREATE TABLE IF NOT EXISTS remote_write_cursors (
  endpoint TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  event_time_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);

-- Sample events a checkpoint sealed (or retention expired) before every endpoint had
-- been sent them: copies of their `events` rows, read only by the remote-write sender
-- and deleted once every cursor has passed them, or by retention past the raw horizon
-- (recorded as a remote_write_gap event).
CREATE TABLE IF NOT EXISTS remote_write_backlog (
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  window_start_ms INTEGER NOT NULL,
  sample_count INTEGER NOT NULL,
  payload BLOB NOT NULL
);
