#include "offmon/store/store_command.h"

#include <ostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace offmon::store {

Result<std::unique_ptr<Store>> OpenStoreForCommand(const CliContext& ctx, bool read_only) {
  StoreOptions options;
  options.path = ctx.store_path;
  options.read_only = read_only;
  options.retention.raw = ctx.config.store.retention_raw;
  options.retention.rollup_5m = ctx.config.store.retention_5m;
  options.retention.rollup_1h = ctx.config.store.retention_1h;
  return Store::Open(options);
}

namespace {

std::string TimeOrDash(const std::optional<TimePoint>& t) { return t ? FormatRfc3339(*t) : "-"; }

void RunInfo(CliContext& ctx, bool json) {
  auto store = OpenStoreForCommand(ctx, /*read_only=*/true);
  if (!store) return ctx.Fail(store.error());
  auto info = (*store)->Info();
  if (!info) return ctx.Fail(info.error());
  // The PostgreSQL collector's backfill progress (docs/metrics.md), when it has run.
  auto latest = (*store)->ReadLatest(TimePoint{});
  if (!latest) return ctx.Fail(latest.error());
  std::optional<LatestSample> oldest, done;
  for (const LatestSample& l : *latest) {
    if (l.key.name == "db_backfill_oldest_epoch") oldest = l;
    if (l.key.name == "db_backfill_done") done = l;
  }
  nlohmann::json backfill;  // null when never recorded
  std::string backfill_line;
  if (oldest) {
    const TimePoint to = FromMillis(static_cast<int64_t>(oldest->sample.value) * 1000);
    const bool complete = done && done->sample.value >= 1;
    backfill = {{"oldest_epoch", FormatRfc3339(to)}, {"done", complete}, {"as_of", FormatRfc3339(oldest->sample.time)}};
    backfill_line = fmt::format("backfill:        epochs read back to {} ({}; as of {})\n", FormatRfc3339(to),
                                complete ? "complete" : "in progress", FormatRfc3339(oldest->sample.time));
  }
  // Remote-write endpoints' cursors (docs/remote-write.md).
  auto cursors = (*store)->RemoteWriteCursors(SystemClock().Now());
  if (!cursors) return ctx.Fail(cursors.error());
  nlohmann::json remote_write = nlohmann::json::array();
  std::string remote_write_lines;
  for (const RemoteWriteCursor& c : *cursors) {
    const double lag_s = std::chrono::duration<double>(c.lag).count();
    remote_write.push_back(
        {{"endpoint", c.endpoint}, {"seq", c.seq}, {"pending_events", c.pending_events}, {"lag_seconds", lag_s}});
    remote_write_lines += fmt::format("  {:<18} sent through event {}, {} pending, lag {:.0f} s\n", c.endpoint, c.seq,
                                      c.pending_events, lag_s);
  }
  if (json) {
    nlohmann::json events = nlohmann::json::object();
    for (const auto& [kind, n] : info->events_by_kind) events[kind] = n;
    *ctx.out << nlohmann::json{{"path", info->path}, {"file_bytes", info->file_bytes},
                               {"schema_version", info->schema_version}, {"series", info->series},
                               {"samples", info->samples}, {"head_samples", info->head_samples},
                               {"chunks", info->chunks}, {"first_sample", TimeOrDash(info->first_sample)},
                               {"last_sample", TimeOrDash(info->last_sample)}, {"events", info->events},
                               {"last_event_seq", info->last_event_seq}, {"events_by_kind", events},
                               {"backfill", backfill}, {"remote_write", remote_write}}
                    .dump(2)
             << '\n';
    return;
  }
  double per_sample = info->samples ? static_cast<double>(info->file_bytes) / static_cast<double>(info->samples) : 0;
  *ctx.out << fmt::format(
      "path:            {}\nsize:            {} bytes ({:.2f} bytes/sample)\nschema version:  {}\n"
      "series:          {}\nsamples:         {} ({} sealed in {} chunks, {} in the head)\n"
      "time range:      {} .. {}\nevents:          {} in the log, last sequence number {}\n",
      info->path, info->file_bytes, per_sample, info->schema_version, info->series, info->samples,
      info->samples - info->head_samples, info->chunks, info->head_samples, TimeOrDash(info->first_sample),
      TimeOrDash(info->last_sample), info->events, info->last_event_seq);
  for (const auto& [kind, n] : info->events_by_kind) *ctx.out << fmt::format("  {:<18} {}\n", kind, n);
  *ctx.out << backfill_line;
  if (!remote_write_lines.empty()) *ctx.out << "remote write:\n" << remote_write_lines;
}

void RunCheck(CliContext& ctx) {
  auto store = OpenStoreForCommand(ctx, /*read_only=*/true);
  if (!store) return ctx.Fail(store.error());
  auto problems = (*store)->Check();
  if (!problems) return ctx.Fail(problems.error());
  if (problems->empty()) {
    *ctx.out << "store OK: " << ctx.store_path << '\n';
    return;
  }
  for (const auto& p : *problems) *ctx.out << p << '\n';
  ctx.Fail(Status::Corruption(fmt::format("{}: {} problem(s) found", ctx.store_path, problems->size())));
}

template <typename Fn>
void RunWrite(CliContext& ctx, Fn&& fn, std::string_view done) {
  auto store = OpenStoreForCommand(ctx, /*read_only=*/false);
  if (!store) return ctx.Fail(store.error());
  Status status = fn(**store);
  if (!status.ok()) return ctx.Fail(status);
  *ctx.out << done << '\n';
}

}  // namespace

void AddStoreCommand(CLI::App& app, CliContext& ctx) {
  auto* store = app.add_subcommand("store", "Inspect and maintain the store");
  store->require_subcommand(1);
  auto* info = store->add_subcommand("info", "Path, size, schema version, series, samples, time range, events");
  auto* json = info->add_flag("--json")->description("Print one JSON document");
  info->callback([&ctx, json] { RunInfo(ctx, json->count() > 0); });
  store->add_subcommand("check", "Verify integrity: SQLite pages, chunks, sample events, catalogue")
      ->callback([&ctx] { RunCheck(ctx); });
  store->add_subcommand("rebuild", "Drop every projection and rebuild it from the event log")
      ->callback([&ctx] { RunWrite(ctx, [](Store& s) { return s.Rebuild(); }, "rebuilt projections from the event log"); });
  store->add_subcommand("compact", "Seal complete windows of head samples into chunks now")
      ->callback([&ctx] { RunWrite(ctx, [](Store& s) { return s.Checkpoint(); }, "checkpoint done"); });
  store->add_subcommand("retention", "Delete data past the retention horizons now")
      ->callback([&ctx] {
        RunWrite(ctx, [&ctx](Store& s) { return s.ApplyRetention(ctx.clock->Now()); }, "retention applied");
      });
  store->add_subcommand("migrate", "Upgrade the store's schema to this offmon's version")
      ->callback([&ctx] { RunWrite(ctx, [](Store&) { return Status::Ok(); }, "store is at the current schema version"); });
}

}  // namespace offmon::store
