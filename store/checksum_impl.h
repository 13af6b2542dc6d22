// Checksums of chunk and rollup rows: zlib's CRC-32 over the row's key columns (each as
// 8 little-endian bytes) and then its encoded data. Verified on every read, so a damaged
// row is an error naming its series and time range, never wrong numbers; the key columns
// are covered so that a row moved to another series or window is caught too.
// Format: docs/store-schema.md#checksums. Thread safety: pure functions.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "offmon/common/status.h"

namespace offmon::store {

int64_t RowChecksum(std::initializer_list<int64_t> keys, std::string_view data);

// Registers the SQL function offmon_crc(key, ..., key, data) = RowChecksum, with which a
// migration computes the checksums of rows written before checksums existed.
Status RegisterChecksumFunction(sqlite3* db);

}  // namespace offmon::store
