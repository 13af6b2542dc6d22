// Embedded schema migrations, one per schema version (store/migrations/NNNN_name.sql).
#pragma once

#include <string_view>
#include <vector>

namespace offmon::store {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// All migrations in version order; version N's script takes a store from N-1 to N.
const std::vector<Migration>& Migrations();

}  // namespace offmon::store
