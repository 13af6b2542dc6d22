-- Schema version 4: a checksum per chunk and rollup row (docs/store-schema.md#checksums),
-- verified on every read so that damaged bytes are an error, never wrong numbers.
-- offmon_crc(keys..., data) is registered by the store (store/checksum.cpp); rows written
-- before this version get theirs here.
ALTER TABLE chunks ADD COLUMN crc INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN crc INTEGER NOT NULL DEFAULT 0;
UPDATE chunks SET crc = offmon_crc(series_id, window_start_ms, min_time_ms, max_time_ms, sample_count, data);
UPDATE rollups SET crc = offmon_crc(series_id, step_s, window_start_ms, data);
