// Epochs: participants registered as stable user ids, epoch_sealed events with their
// CRoaring participant bitmaps, and the epochs projection.
#include "sqlite_store_impl.h"

#include <roaring/roaring.h>

#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "varint_impl.h"

namespace offmon::store {

namespace {

std::string EncodeEpochPayload(const EpochObservation& e, const std::string& bitmap) {
  nlohmann::json header{{"channel", e.channel},
                        {"epoch", e.epoch},
                        {"sealed_at_ms", ToMillis(e.sealed_at)},
                        {"published", e.published},
                        {"published_at_ms", e.published_at ? nlohmann::json(ToMillis(*e.published_at)) : nlohmann::json()},
                        {"root", e.root},
                        {"token_group", e.token_group},
                        {"category", e.category},
                        {"participants", e.count()}};
  std::string json = header.dump();
  std::string out;
  PutVarint(&out, json.size());
  out += json;
  out += bitmap;
  return out;
}

}  // namespace

Result<int64_t> SqliteStore::WriteEpochs(const std::vector<EpochObservation>& epochs, std::string_view source,
                                         int64_t at_ms) {
  if (epochs.empty()) return next_user_id_;
  int64_t next_user = next_user_id_;
  // Registered in this batch; views of the hashes in `epochs`, which outlive this call.
  std::unordered_map<std::string_view, int64_t> fresh;
  std::vector<std::string_view> fresh_in_order;
  std::vector<std::string> bitmaps;
  for (const EpochObservation& e : epochs) {
    if (!e.has_participant_set) {  // count only: no bytes after the header
      bitmaps.emplace_back();
      continue;
    }
    roaring_bitmap_t* set = roaring_bitmap_create();
    for (const std::string& hash : e.participants) {
      int64_t id = 0;
      if (auto it = fresh.find(hash); it != fresh.end()) {
        id = it->second;
      } else {
        auto lookup = db_->Cached("SELECT id FROM users WHERE hash = ?");
        if (!lookup) {
          roaring_bitmap_free(set);
          return lookup.error();
        }
        (*lookup)->Bind(1, hash);
        Status status;
        if ((*lookup)->Step(&status)) {
          id = (*lookup)->Int(0);
        } else if (status.ok()) {
          id = next_user++;
          fresh.emplace(hash, id);
          fresh_in_order.push_back(hash);
        }
        (*lookup)->Reset();
        if (!status.ok()) {
          roaring_bitmap_free(set);
          return status;
        }
      }
      roaring_bitmap_add(set, static_cast<uint32_t>(id));
    }
    roaring_bitmap_run_optimize(set);
    std::string bytes(roaring_bitmap_portable_size_in_bytes(set), '\0');
    roaring_bitmap_portable_serialize(set, bytes.data());
    roaring_bitmap_free(set);
    bitmaps.push_back(std::move(bytes));
  }
  if (next_user > int64_t{1} << 32) return Status::InvalidArgument("more than 2^32 distinct users");
  if (!fresh_in_order.empty()) {
    std::string payload;
    {
      nlohmann::json hashes = nlohmann::json::array();
      hashes.get_ref<nlohmann::json::array_t&>().reserve(fresh_in_order.size());
      for (std::string_view hash : fresh_in_order) hashes.emplace_back(hash);
      payload = nlohmann::json{{"first_id", next_user_id_}, {"hashes", std::move(hashes)}}.dump();
    }
    auto seq = InsertEvent(EventKind::kUsersRegistered, source, payload, at_ms);
    if (!seq) return seq.error();
    auto insert = db_->Cached("INSERT INTO users(id, hash) VALUES (?, ?)");
    if (!insert) return insert.error();
    for (std::string_view hash : fresh_in_order) {
      (*insert)->Bind(1, fresh[hash]).Bind(2, hash);
      OFFMON_RETURN_IF_ERROR((*insert)->Run());
    }
  }
  for (size_t i = 0; i < epochs.size(); ++i) {
    Event event{0, FromMillis(at_ms), std::string(source), EventKind::kEpochSealed,
                EncodeEpochPayload(epochs[i], bitmaps[i])};
    auto seq = InsertEvent(event.kind, source, event.payload, at_ms);
    if (!seq) return seq.error();
    event.seq = *seq;
    auto record = DecodeEpochEvent(event);
    if (!record) return record.error();
    OFFMON_RETURN_IF_ERROR(ProjectEpoch(*record));
  }
  return next_user;
}

Status SqliteStore::ProjectEpoch(const EpochRecord& e) {
  auto stmt = db_->Cached(
      "INSERT INTO epochs(channel, epoch, sealed_at_ms, published, published_at_ms, root, token_group,"
      " category, participants, bitmap, seq, observed_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
      " ON CONFLICT(channel, epoch) DO UPDATE SET sealed_at_ms = excluded.sealed_at_ms,"
      " published = excluded.published, published_at_ms = excluded.published_at_ms, root = excluded.root,"
      " token_group = excluded.token_group, category = excluded.category, participants = excluded.participants,"
      // A count-only observation keeps the set seen before under the same root.
      " bitmap = CASE WHEN length(excluded.bitmap) = 0 AND root = excluded.root THEN bitmap"
      " ELSE excluded.bitmap END, seq = excluded.seq, observed_at_ms = excluded.observed_at_ms");
  if (!stmt) return stmt.error();
  (*stmt)->Bind(1, e.channel).Bind(2, e.epoch).Bind(3, ToMillis(e.sealed_at)).Bind(4, int64_t{e.published});
  if (e.published_at) {
    (*stmt)->Bind(5, ToMillis(*e.published_at));
  } else {
    (*stmt)->BindNull(5);
  }
  (*stmt)->Bind(6, e.root).Bind(7, e.token_group).Bind(8, e.category).Bind(9, e.participants).BindBlob(10, e.bitmap)
      .Bind(11, e.seq).Bind(12, ToMillis(e.observed_at));
  return (*stmt)->Run();
}

Status SqliteStore::RebuildEpochs() {
  OFFMON_RETURN_IF_ERROR(db_->Exec("DELETE FROM users; DELETE FROM epochs;"));
  auto users = db_->Prepare("SELECT seq, payload FROM events WHERE kind = ? ORDER BY seq");
  if (!users) return users.error();
  users->Bind(1, KindParam(EventKind::kUsersRegistered));
  auto insert = db_->Prepare("INSERT INTO users(id, hash) VALUES (?, ?)");
  if (!insert) return insert.error();
  Status status;
  while (users->Step(&status)) {
    auto payload = nlohmann::json::parse(users->Blob(1), nullptr, false);
    if (!payload.is_object() || !payload["first_id"].is_number_integer() || !payload["hashes"].is_array()) {
      return Status::Corruption(fmt::format("event {}: bad users_registered payload", users->Int(0)));
    }
    int64_t id = payload["first_id"].get<int64_t>();
    for (const auto& hash : payload["hashes"]) {
      if (!hash.is_string()) return Status::Corruption(fmt::format("event {}: bad user hash", users->Int(0)));
      insert->Bind(1, id++).Bind(2, hash.get<std::string>());
      OFFMON_RETURN_IF_ERROR(insert->Run());
    }
  }
  OFFMON_RETURN_IF_ERROR(status);
  auto epochs = db_->Prepare("SELECT seq, time_ms, source, payload FROM events WHERE kind = ? ORDER BY seq");
  if (!epochs) return epochs.error();
  epochs->Bind(1, KindParam(EventKind::kEpochSealed));
  while (epochs->Step(&status)) {
    Event event{epochs->Int(0), FromMillis(epochs->Int(1)), std::string(epochs->Text(2)), EventKind::kEpochSealed,
                std::string(epochs->Blob(3))};
    auto record = DecodeEpochEvent(event);
    if (!record) return record.error();
    OFFMON_RETURN_IF_ERROR(ProjectEpoch(*record));
  }
  return status;
}

Result<std::vector<EpochRecord>> SqliteStore::ReadEpochs(TimePoint from, TimePoint to) {
  auto stmt = db_->Prepare(
      "SELECT channel, epoch, sealed_at_ms, published, published_at_ms, root, token_group, category, participants,"
      " bitmap, seq, observed_at_ms FROM epochs WHERE sealed_at_ms >= ? AND sealed_at_ms < ?"
      " ORDER BY sealed_at_ms, channel");
  if (!stmt) return stmt.error();
  stmt->Bind(1, ToMillis(from)).Bind(2, ToMillis(to));
  std::vector<EpochRecord> out;
  Status status;
  while (stmt->Step(&status)) {
    EpochRecord e;
    e.channel = stmt->Text(0);
    e.epoch = stmt->Int(1);
    e.sealed_at = FromMillis(stmt->Int(2));
    e.published = stmt->Int(3) != 0;
    if (!stmt->IsNull(4)) e.published_at = FromMillis(stmt->Int(4));
    e.root = stmt->Text(5);
    e.token_group = stmt->Text(6);
    e.category = stmt->Text(7);
    e.participants = stmt->Int(8);
    e.bitmap = stmt->Blob(9);
    e.seq = stmt->Int(10);
    e.observed_at = FromMillis(stmt->Int(11));
    out.push_back(std::move(e));
  }
  OFFMON_RETURN_IF_ERROR(status);
  return out;
}

Result<EpochRecord> DecodeEpochEvent(const Event& event) {
  auto bad = [&](std::string_view why) {
    return Status::Corruption(fmt::format("event {}: epoch_sealed payload {}", event.seq, why));
  };
  ByteReader in(event.payload);
  uint64_t json_size;
  std::string_view json;
  if (!in.Varint(&json_size) || !in.Bytes(json_size, &json)) return bad("is truncated");
  auto header = nlohmann::json::parse(json, nullptr, false);
  auto is_int = [&](const char* key) { return header.contains(key) && header[key].is_number_integer(); };
  auto is_str = [&](const char* key) { return header.contains(key) && header[key].is_string(); };
  if (!header.is_object() || !is_str("channel") || !is_int("epoch") || !is_int("sealed_at_ms") ||
      !header.contains("published") || !header["published"].is_boolean() || !is_str("root") ||
      !is_str("token_group") || !is_str("category") || !is_int("participants")) {
    return bad("has a bad header");
  }
  const size_t header_end = static_cast<size_t>(json.data() + json.size() - event.payload.data());
  std::string_view bitmap = std::string_view(event.payload).substr(header_end);
  uint64_t cardinality = 0;  // no bytes: a count-only observation
  if (!bitmap.empty()) {
    roaring_bitmap_t* set = roaring_bitmap_portable_deserialize_safe(bitmap.data(), bitmap.size());
    if (set == nullptr) return bad("has a bitmap that does not decode");
    cardinality = roaring_bitmap_get_cardinality(set);
    roaring_bitmap_free(set);
  }
  EpochRecord e;
  e.participants = header["participants"].get<int64_t>();
  if (cardinality > static_cast<uint64_t>(e.participants)) return bad("has more ids than participants");
  e.channel = header["channel"].get<std::string>();
  e.epoch = header["epoch"].get<int64_t>();
  e.sealed_at = FromMillis(header["sealed_at_ms"].get<int64_t>());
  e.published = header["published"].get<bool>();
  if (header.contains("published_at_ms") && header["published_at_ms"].is_number_integer()) {
    e.published_at = FromMillis(header["published_at_ms"].get<int64_t>());
  }
  e.root = header["root"].get<std::string>();
  e.token_group = header["token_group"].get<std::string>();
  e.category = header["category"].get<std::string>();
  e.bitmap = std::string(bitmap);
  e.seq = event.seq;
  e.observed_at = event.time;
  return e;
}

}  // namespace offmon::store
