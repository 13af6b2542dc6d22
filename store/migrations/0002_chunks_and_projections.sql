-- Schema version 2: sealed chunks (the checkpointed, durable form of sample events)
-- and the projections derived from the log.

-- One encoded chunk per series per window (docs/chunk-encoding.md). A rowid table:
-- blobs in a WITHOUT ROWID table would be copied through interior pages.
CREATE TABLE chunks (
  id INTEGER PRIMARY KEY,
  series_id INTEGER NOT NULL,
  window_start_ms INTEGER NOT NULL,
  min_time_ms INTEGER NOT NULL,
  max_time_ms INTEGER NOT NULL,
  sample_count INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE UNIQUE INDEX chunks_by_series ON chunks(series_id, window_start_ms);

-- Projection of SeriesDefined events: the series catalogue.
CREATE TABLE series (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE
);

-- Projection: min/max/sum/count buckets per series, one row per series per row window
-- (2 h of 5-minute buckets, or 1 day of 1-hour buckets).
CREATE TABLE rollups (
  id INTEGER PRIMARY KEY,
  series_id INTEGER NOT NULL,
  step_s INTEGER NOT NULL,
  window_start_ms INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE UNIQUE INDEX rollups_by_series ON rollups(series_id, step_s, window_start_ms);

-- Small facts about the store: sealed_through_ms (every window ending at or before it
-- has been sealed once), raw_horizon_ms (raw data before it was dropped by retention).
CREATE TABLE store_state (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
