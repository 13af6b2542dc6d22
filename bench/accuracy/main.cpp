// offmon_accuracy: the labelled accuracy suite (issue 6, docs/accuracy.md). Builds the
// seeded corpus, scores the shipped offmon binary and the peers on every scenario, and
// prints one table; exits 3 when offmon is below a floor given with --min-*/--max-*.
//
//   offmon_accuracy --offmon build/offmon [--subset fast|full] [--details]
//                   [--min-f1 MemoryLeak=0.95 ...] [--max-false-alarms CpuHigh=0 ...]
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "offmon_runner.h"
#include "peers.h"
#include "results.h"
#include "scenario.h"
#include "scorer.h"
#include "table_printer.h"

namespace offmon::accuracy {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitBelowFloor = 3;

struct Options {
  std::string offmon;
  std::string subset = "full";
  uint64_t seed = 1;
  bool details = false;
  int jobs = 1;
  std::string only;
  std::string keep;  // keep each scenario's files here
  std::map<std::string, double> min_f1, min_precision, min_recall, max_false_alarms;
};

struct ScenarioResult {
  std::map<Method, ScenarioScore> scores;
  std::string error;
};

// "MemoryLeak=0.95" → {"MemoryLeak", 0.95}; InvalidArgument naming the problem.
Result<std::pair<std::string, double>> ParseFloor(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos) return Status::InvalidArgument(fmt::format("floor '{}': expected KIND=VALUE", text));
  const std::string name = text.substr(0, eq);
  if (!KindFromName(name)) {
    return Status::InvalidArgument(fmt::format("floor '{}': unknown alert kind '{}'", text, name));
  }
  double value = 0;
  const char* begin = text.data() + eq + 1;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || begin == end) {
    return Status::InvalidArgument(fmt::format("floor '{}': bad number", text));
  }
  return std::pair{name, value};
}

std::string Machine() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::string model = "unknown CPU";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.starts_with("model name")) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  return fmt::format("{}, {}, {} hardware threads", host, model, std::thread::hardware_concurrency());
}

std::string NowUtc() {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  return FormatRfc3339(std::chrono::time_point_cast<Duration>(now));
}

ScenarioResult RunScenario(const Options& options, const Scenario& scenario, const std::string& dir) {
  ScenarioResult result;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    result.error = fmt::format("cannot create {}: {}", dir, ec.message());
    return result;
  }
  auto offmon = RunOffmon(options.offmon, scenario, dir);
  if (options.keep.empty()) {
    std::filesystem::remove_all(dir, ec);
  } else if (!WriteLabels(scenario, dir + "/labels.txt")) {
    result.error = fmt::format("cannot write {}/labels.txt", dir);
    return result;
  }
  if (!offmon) {
    result.error = offmon.error().message();
    return result;
  }
  result.scores[Method::kOffmon] = Score(scenario, *offmon);
  for (Method method : {Method::kGuide, Method::kPredictLinear}) {
    result.scores[method] = Score(scenario, RunPeer(method, scenario));
  }
  return result;
}

// Checks offmon's totals against the floors; prints each failure.
int CheckFloors(const Options& options, const Results& results) {
  int failures = 0;
  auto check = [&](const std::map<std::string, double>& floors, const char* what, bool at_most, auto&& value_of) {
    for (const auto& [name, level] : floors) {
      auto kind = KindFromName(name);
      const std::optional<double> value = value_of(results.Total(Method::kOffmon, *kind));
      const bool ok = value && (at_most ? *value <= level : *value >= level);
      if (!ok) {
        ++failures;
        std::cout << fmt::format("FLOOR FAILED: {} {} is {} ({} {})\n", name, what,
                                 value ? fmt::format("{:.4f}", *value) : "undefined", at_most ? "max" : "min", level);
      }
    }
  };
  check(options.min_f1, "F1", false, [](const KindTally& t) { return t.F1(); });
  check(options.min_precision, "precision", false, [](const KindTally& t) { return t.Precision(); });
  check(options.min_recall, "recall", false, [](const KindTally& t) { return t.Recall(); });
  check(options.max_false_alarms, "false alarms / series-day", true,
        [](const KindTally& t) { return t.FalseAlarmsPerSeriesDay(); });
  if (failures == 0) std::cout << "\nAll floors met.\n";
  return failures;
}

int Main(int argc, char** argv) {
  CLI::App app{"offmon accuracy suite: labelled scenarios, offmon and peers side by side (docs/accuracy.md)"};
  Options options;
  app.add_option("--offmon", options.offmon, "Path of the offmon binary to score")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--subset", options.subset, "fast (CI, under a minute) or full")
      ->check(CLI::IsMember({"fast", "full"}));
  app.add_option("--seed", options.seed, "Corpus seed (default 1)");
  app.add_flag("--details", options.details, "Also print per-family results and offmon's misses and false alarms");
  app.add_option("--jobs", options.jobs, "Scenarios run in parallel (default 1)")->check(CLI::Range(1, 16));
  app.add_option("--only", options.only, "Only scenarios whose name contains this text");
  app.add_option("--keep", options.keep,
                 "Keep each scenario's history.csv, store.db, labels.txt and analyze output (stdout) in DIR/<n>");
  std::vector<std::string> min_f1, min_precision, min_recall, max_false_alarms;
  const char* kFloorHelp = "KIND=VALUE, repeatable; exit 3 when offmon is below it";
  app.add_option("--min-f1", min_f1, kFloorHelp);
  app.add_option("--min-precision", min_precision, kFloorHelp);
  app.add_option("--min-recall", min_recall, kFloorHelp);
  app.add_option("--max-false-alarms", max_false_alarms,
                 "KIND=VALUE false alarms per series-day, repeatable; exit 3 when offmon is above it");
  CLI11_PARSE(app, argc, argv);
  for (auto [texts, floors] : {std::pair{&min_f1, &options.min_f1},
                               {&min_precision, &options.min_precision},
                               {&min_recall, &options.min_recall},
                               {&max_false_alarms, &options.max_false_alarms}}) {
    for (const std::string& text : *texts) {
      auto floor = ParseFloor(text);
      if (!floor) {
        std::cerr << "offmon_accuracy: " << floor.error().message() << '\n';
        return kExitUsage;
      }
      (*floors)[floor->first] = floor->second;
    }
  }

  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  const auto started = std::chrono::steady_clock::now();
  std::vector<Scenario> corpus = BuildCorpus(options.subset == "fast" ? Subset::kFast : Subset::kFull, options.seed);
  if (!options.only.empty()) {
    std::erase_if(corpus, [&](const Scenario& s) { return s.name.find(options.only) == std::string::npos; });
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "offmon-accuracy-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    std::cerr << "offmon_accuracy: cannot create a temporary directory\n";
    return kExitError;
  }
  const std::string work = pattern;

  std::vector<ScenarioResult> outcomes(corpus.size());
  std::atomic<size_t> next{0};
  std::mutex progress;
  auto worker = [&] {
    for (size_t i = next++; i < corpus.size(); i = next++) {
      const auto t0 = std::chrono::steady_clock::now();
      const std::string dir =
          options.keep.empty() ? fmt::format("{}/s{}", work, i) : fmt::format("{}/{}", options.keep, i + 1);
      outcomes[i] = RunScenario(options, corpus[i], dir);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::lock_guard lock(progress);
      std::cerr << fmt::format("[{}/{}] {:.1f}s {}\n", i + 1, corpus.size(), seconds, corpus[i].name);
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < options.jobs; ++j) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  std::error_code ec;
  std::filesystem::remove_all(work, ec);

  Results results;
  for (size_t i = 0; i < corpus.size(); ++i) {
    if (!outcomes[i].error.empty()) {
      std::cerr << "offmon_accuracy: " << outcomes[i].error << '\n';
      return kExitError;
    }
    for (const auto& [method, score] : outcomes[i].scores) results.Add(corpus[i], method, score);
  }
  RunInfo info{NowUtc(),     Machine(),
               command,      options.subset,
               options.seed, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()};
  PrintTable(std::cout, info, results);
  PrintTargets(std::cout, results);
  if (options.details) {
    PrintFamilies(std::cout, results);
    PrintLeakRates(std::cout, results);
    std::cout << "\noffmon's misses and false alarms (times from the start of the judged range):\n";
    for (const std::string& note : results.offmon_notes) std::cout << "- " << note << '\n';
  }
  return CheckFloors(options, results) == 0 ? kExitOk : kExitBelowFloor;
}

}  // namespace

}  // namespace offmon::accuracy

int main(int argc, char** argv) { return offmon::accuracy::Main(argc, argv); }
