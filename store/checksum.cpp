#include "checksum_impl.h"

#include <zlib.h>

#include <array>
#include <string>

namespace offmon::store {

namespace {

uint32_t Extend(uint32_t crc, const void* bytes, size_t size) {
  return static_cast<uint32_t>(crc32_z(crc, static_cast<const Bytef*>(bytes), size));
}

uint32_t ExtendWithKey(uint32_t crc, int64_t key) {
  std::array<unsigned char, 8> le;
  for (size_t i = 0; i < le.size(); ++i) le[i] = static_cast<unsigned char>(static_cast<uint64_t>(key) >> (8 * i));
  return Extend(crc, le.data(), le.size());
}

void SqlChecksum(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (argc < 1) return sqlite3_result_error(ctx, "offmon_crc(key, ..., data) needs the data", -1);
  uint32_t crc = Extend(0, nullptr, 0);
  for (int i = 0; i + 1 < argc; ++i) crc = ExtendWithKey(crc, sqlite3_value_int64(argv[i]));
  const void* data = sqlite3_value_blob(argv[argc - 1]);
  const int size = sqlite3_value_bytes(argv[argc - 1]);
  crc = Extend(crc, data, data != nullptr ? static_cast<size_t>(size) : 0);
  sqlite3_result_int64(ctx, crc);
}

}  // namespace

int64_t RowChecksum(std::initializer_list<int64_t> keys, std::string_view data) {
  uint32_t crc = Extend(0, nullptr, 0);
  for (int64_t key : keys) crc = ExtendWithKey(crc, key);
  return Extend(crc, data.data(), data.size());
}

Status RegisterChecksumFunction(sqlite3* db) {
  const int rc = sqlite3_create_function_v2(db, "offmon_crc", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                            &SqlChecksum, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Status::IOError(std::string("register offmon_crc: ") + sqlite3_errmsg(db));
  return Status::Ok();
}

}  // namespace offmon::store
