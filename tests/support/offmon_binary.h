// The offmon binary run on a test's own config and store, and that store read back the
// way another process sees it: read-only, while the binary may still be writing. For the
// test programs declared USES_BINARY in tests/CMakeLists.txt (OFFMON_BINARY is the path of
// build/offmon); they link offmon::store.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "offmon/store/selector.h"
#include "offmon/store/store.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

#ifndef OFFMON_BINARY
#error "support/offmon_binary.h is for test programs declared USES_BINARY"
#endif

namespace offmon::testing {

class OffmonBinary {
 public:
  // offmon.toml and offmon.db in `dir` (nothing is created yet).
  explicit OffmonBinary(const TempDir& dir) : config_(dir / "offmon.toml"), store_(dir / "offmon.db") {}

  const std::filesystem::path& config() const { return config_; }
  const std::filesystem::path& store() const { return store_; }

  // {OFFMON_BINARY, "--config", config, "--store", store, args...}.
  std::vector<std::string> Argv(std::vector<std::string> args) const {
    args.insert(args.begin(), {OFFMON_BINARY, "--config", config_.string(), "--store", store_.string()});
    return args;
  }
  // Runs `offmon ARGS` to its end.
  CommandResult Run(std::vector<std::string> args) const { return RunCommand(Argv(std::move(args))); }
  // `offmon collect` in the background; its destructor kills it if still running.
  std::unique_ptr<BackgroundCommand> StartCollect() const {
    return std::make_unique<BackgroundCommand>(Argv({"collect"}));
  }

  // The store opened read-only, as a reader beside the daemon; NotFound before it exists.
  Result<std::unique_ptr<store::Store>> OpenReader() const {
    if (!std::filesystem::exists(store_)) return Status::NotFound("no store yet: " + store_.string());
    store::StoreOptions options;
    options.path = store_;
    options.read_only = true;
    return store::Store::Open(options);
  }
  // Every event of `kind` (every event: nullopt), oldest first; the reader's error when the
  // store cannot be opened or read.
  Result<std::vector<store::Event>> Events(std::optional<EventKind> kind) const {
    auto store = OpenReader();
    if (!store) return store.error();
    std::vector<store::Event> out;
    while (true) {
      auto page = (*store)->ReadEvents(out.empty() ? 0 : out.back().seq, kind, 512);
      if (!page) return page.error();
      if (page->empty()) return out;
      out.insert(out.end(), page->begin(), page->end());
    }
  }
  // Samples stored for the first series `selector` matches (system_load1: one per system
  // collection cycle); 0 while there is no store or no such series.
  size_t Samples(std::string_view selector = "system_load1") const {
    auto store = OpenReader();
    if (!store) return 0;
    auto series = (*store)->Select(*store::Selector::Parse(selector));
    if (!series || series->empty()) return 0;
    auto samples = (*store)->ReadRange(series->front().id, TimePoint::min(), TimePoint::max());
    return samples ? samples->size() : 0;
  }

 private:
  std::filesystem::path config_, store_;
};

}  // namespace offmon::testing
