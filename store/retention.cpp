// Retention: deletes raw data and rollups past their horizons, whole rows on day
// boundaries, and records a retention event.
#include "sqlite_store_impl.h"

#include <algorithm>
#include <initializer_list>

#include <nlohmann/json.hpp>

namespace offmon::store {

Status SqliteStore::ApplyRetention(TimePoint now) {
  if (options_.read_only) return Status::ReadOnly("store opened read-only");
  // Horizons fall on day boundaries so no chunk or rollup row straddles one.
  const int64_t now_ms = ToMillis(now);
  const int64_t raw = FloorTo(now_ms - options_.retention.raw.count(), kDayMs);
  const int64_t r5 = FloorTo(now_ms - options_.retention.rollup_5m.count(), kDayMs);
  const int64_t r1 = FloorTo(now_ms - options_.retention.rollup_1h.count(), kDayMs);
  Transaction txn(db_.get(), /*immediate=*/true);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  auto old_horizon = GetState("raw_horizon_ms", kMinTime);
  if (!old_horizon) return old_horizon.error();
  const int64_t horizon = std::max(*old_horizon, raw);
  int64_t deleted = 0;
  // Runs one DELETE with `params` bound in order and counts the rows it removed.
  auto delete_rows = [&](std::string_view sql, std::initializer_list<int64_t> params) -> Status {
    auto stmt = db_->Prepare(sql);
    if (!stmt) return stmt.error();
    int index = 0;
    for (int64_t param : params) stmt->Bind(++index, param);
    OFFMON_RETURN_IF_ERROR(stmt->Run());
    deleted += sqlite3_changes(db_->raw());
    return Status::Ok();
  };
  // Unsent sample events past the horizon are lost to remote write: recorded, not silent.
  OFFMON_RETURN_IF_ERROR(RecordRemoteWriteGaps(horizon, now_ms));
  // Chunk windows wholly before the horizon: sealed chunks and the head's sample events.
  OFFMON_RETURN_IF_ERROR(delete_rows("DELETE FROM chunks WHERE window_start_ms + ? <= ?", {window_ms(), horizon}));
  OFFMON_RETURN_IF_ERROR(delete_rows("DELETE FROM events WHERE kind = ? AND window_start_ms + ? <= ?",
                                     {KindParam(EventKind::kSamples), window_ms(), horizon}));
  for (const RollupLayout& layout : kLayouts) {
    OFFMON_RETURN_IF_ERROR(delete_rows("DELETE FROM rollups WHERE step_s = ? AND window_start_ms + ? <= ?",
                                       {layout.step_ms / 1000, layout.row_ms, layout.step_ms == 300'000 ? r5 : r1}));
  }
  auto seq = InsertEvent(EventKind::kRetention, "store",
                         nlohmann::json{{"raw_before_ms", horizon}, {"rollup_5m_before_ms", r5},
                                        {"rollup_1h_before_ms", r1}, {"rows_deleted", deleted}}.dump(),
                         now_ms);
  if (!seq) return seq.error();
  OFFMON_RETURN_IF_ERROR(SetState("raw_horizon_ms", horizon));
  OFFMON_RETURN_IF_ERROR(BumpHeadGeneration());
  return txn.Commit();
}

}  // namespace offmon::store
