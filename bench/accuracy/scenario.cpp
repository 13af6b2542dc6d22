#include "scenario.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <numbers>

namespace offmon::accuracy {

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kMemoryLeak:
      return "MemoryLeak";
    case Kind::kParticipantDrop:
      return "ParticipantDrop";
    case Kind::kZeroParticipants:
      return "ZeroParticipants";
    case Kind::kCpuHigh:
      return "CpuHigh";
    case Kind::kRestartLoop:
      return "RestartLoop";
  }
  return "?";
}

std::optional<Kind> KindFromName(std::string_view name) {
  for (Kind kind : kAllKinds) {
    if (KindName(kind) == name) return kind;
  }
  return std::nullopt;
}

std::string_view KindMetric(Kind kind) {
  switch (kind) {
    case Kind::kMemoryLeak:
      return "process_memory_bytes";
    case Kind::kParticipantDrop:
    case Kind::kZeroParticipants:
      return "epoch_participants";
    case Kind::kCpuHigh:
      return "process_cpu_percent";
    case Kind::kRestartLoop:
      return "process_restarts_total";
  }
  return "";
}

uint64_t Rng::Next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double Rng::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

double Rng::Normal() {
  if (spare_) {
    const double v = *spare_;
    spare_.reset();
    return v;
  }
  // Box–Muller; 1 - U keeps the logarithm's argument in (0, 1].
  const double r = std::sqrt(-2.0 * std::log(1.0 - Uniform()));
  const double a = 2.0 * std::numbers::pi * Uniform();
  spare_ = r * std::sin(a);
  return r * std::cos(a);
}

double Rng::Poisson(double mean) {
  if (!(mean > 0)) return 0;
  if (mean >= 30) return std::max(0.0, std::round(Normal(mean, std::sqrt(mean))));
  const double limit = std::exp(-mean);
  double product = Uniform();
  int k = 0;
  while (product > limit) {
    product *= Uniform();
    ++k;
  }
  return k;
}

uint64_t ScenarioSeed(uint64_t base_seed, std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h ^ (base_seed * 0x9E3779B97F4A7C15ULL);
}

TimePoint CorpusStart() { return FromMillis(int64_t{1'767'571'200} * 1000); }

bool WriteCsv(const Scenario& scenario, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  out << "timestamp,series,value\n";
  std::string line;
  for (const SeriesData& s : scenario.series) {
    const std::string key = fmt::format("{}{{{}=\"{}\"}}", s.metric, s.label_name, s.subject);
    for (const Sample& sample : s.samples) {
      const int64_t ms = ToMillis(sample.time);
      line.clear();
      if (ms % 1000 == 0) {
        fmt::format_to(std::back_inserter(line), "{},{},{}\n", ms / 1000, key, sample.value);
      } else {
        fmt::format_to(std::back_inserter(line), "{}.{:03},{},{}\n", ms / 1000, ms % 1000, key, sample.value);
      }
      out << line;
    }
  }
  out.flush();
  return static_cast<bool>(out);
}

bool WriteLabels(const Scenario& scenario, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  auto seconds = [](TimePoint t) { return ToMillis(t) / 1000; };
  out << fmt::format("scenario {}\nfrom {} to {} step {}s\n", scenario.name, seconds(scenario.from),
                     seconds(scenario.to), scenario.step.count() / 1000);
  out << "kind subject start accept_from accept_until crossing leak_mib_per_hour\n";
  for (const Window& w : scenario.windows) {
    out << fmt::format("{} {} {} {} {} {} {}\n", KindName(w.kind), w.subject, seconds(w.start), seconds(w.accept_from),
                       seconds(w.accept_until), w.crossing ? std::to_string(seconds(*w.crossing)) : "-",
                       w.leak_mib_per_hour);
  }
  out.flush();
  return static_cast<bool>(out);
}

double SeriesDays(const Scenario& scenario, Kind kind) {
  const double days = std::chrono::duration<double>(scenario.to - scenario.from).count() / 86400.0;
  double n = 0;
  for (const SeriesData& s : scenario.series) {
    if (s.metric == KindMetric(kind)) n += 1;
  }
  return n * days;
}

std::vector<Scenario> BuildCorpus(Subset subset, uint64_t seed) {
  // The full suite repeats every scenario with independent noise; its first replicate is
  // the same data as the fast subset's scenarios.
  const int replicates = subset == Subset::kFull ? kFullReplicates : 1;
  std::vector<Scenario> out;
  for (int r = 0; r < replicates; ++r) {
    const uint64_t replicate_seed = seed + static_cast<uint64_t>(r) * 0x9E3779B9ULL;
    const size_t first = out.size();
    AddMemoryScenarios(subset, replicate_seed, out);
    AddParticipantScenarios(subset, replicate_seed, out);
    AddCpuScenarios(subset, replicate_seed, out);
    AddRestartScenarios(subset, replicate_seed, out);
    if (r > 0) {
      for (size_t i = first; i < out.size(); ++i) out[i].name += fmt::format("#{}", r + 1);
    }
  }
  return out;
}

}  // namespace offmon::accuracy
