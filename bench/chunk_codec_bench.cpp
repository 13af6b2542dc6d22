// Chunk codec throughput and size on typical series shapes: 720 samples per chunk
// (2 h at 10 s), fixed seeds. Several distinct chunks per shape are cycled so the
// branch predictor cannot memorise one chunk's bit pattern.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "offmon/store/chunk_codec.h"

namespace offmon::store {
namespace {

constexpr size_t kSamplesPerChunk = 720;
constexpr size_t kChunks = 16;
constexpr int64_t kStartMillis = 1'763'182'230'000;
constexpr int64_t kGridMillis = 10'000;

enum class Shape { kMemoryGauge, kCpuTenths, kCounter, kConstant, kRandomDoubles };

std::vector<double> MakeValues(Shape shape, std::mt19937_64& rng) {
  std::vector<double> v(kSamplesPerChunk);
  switch (shape) {
    case Shape::kMemoryGauge: {
      // GC'd heap near 1 GB: ~1 MiB growth per sample, collected every ~30 samples,
      // with byte-granular noise.
      std::normal_distribution<double> noise(0, 64 * 1024);
      double heap = 9e8;
      for (size_t i = 0; i < v.size(); ++i) {
        if (i % 30 == 0) heap = 9e8 + noise(rng) * 10;
        heap += 1024 * 1024;
        v[i] = std::round(heap + noise(rng));
      }
      break;
    }
    case Shape::kCpuTenths: {
      std::normal_distribution<double> step(0, 15);
      int tenths = 123;
      for (double& x : v) {
        tenths = std::clamp(tenths + static_cast<int>(step(rng)), 0, 1000);
        x = tenths / 10.0;
      }
      break;
    }
    case Shape::kCounter: {
      std::poisson_distribution<int> requests(40);
      double total = 123'456'789;
      for (double& x : v) {
        total += requests(rng);
        x = total;
      }
      break;
    }
    case Shape::kConstant:
      std::fill(v.begin(), v.end(), 16.0 * 1024 * 1024 * 1024);
      break;
    case Shape::kRandomDoubles: {
      std::uniform_real_distribution<double> any(-1e6, 1e6);
      for (double& x : v) x = any(rng);
      break;
    }
  }
  return v;
}

std::vector<std::vector<Sample>> MakeChunks(Shape shape) {
  std::mt19937_64 rng(0xC0DEC + static_cast<uint64_t>(shape));
  std::vector<std::vector<Sample>> chunks;
  for (size_t c = 0; c < kChunks; ++c) {
    const std::vector<double> values = MakeValues(shape, rng);
    std::vector<Sample> chunk;
    const int64_t start = kStartMillis + static_cast<int64_t>(c * kSamplesPerChunk) * kGridMillis;
    for (size_t i = 0; i < values.size(); ++i) {
      chunk.push_back({FromMillis(start + static_cast<int64_t>(i) * kGridMillis), values[i]});
    }
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

void SetCounters(benchmark::State& state, const std::vector<std::string>& encoded) {
  size_t bytes = 0;
  for (const std::string& e : encoded) bytes += e.size();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSamplesPerChunk));
  state.counters["bytes/sample"] =
      static_cast<double>(bytes) / static_cast<double>(encoded.size() * kSamplesPerChunk);
}

void BM_Encode(benchmark::State& state, Shape shape) {
  const auto chunks = MakeChunks(shape);
  std::vector<std::string> encoded;
  for (const auto& chunk : chunks) encoded.push_back(EncodeChunk(chunk));
  size_t c = 0;
  for (auto _ : state) {
    std::string bytes = EncodeChunk(chunks[c]);
    benchmark::DoNotOptimize(bytes.data());
    c = (c + 1) % kChunks;
  }
  SetCounters(state, encoded);
}

void BM_Decode(benchmark::State& state, Shape shape) {
  const auto chunks = MakeChunks(shape);
  std::vector<std::string> encoded;
  for (const auto& chunk : chunks) encoded.push_back(EncodeChunk(chunk));
  std::vector<Sample> out;
  out.reserve(kSamplesPerChunk);
  size_t c = 0;
  for (auto _ : state) {
    out.clear();
    Status s = DecodeChunk(encoded[c], &out);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
    c = (c + 1) % kChunks;
  }
  SetCounters(state, encoded);
}

#define OFFMON_CODEC_BENCH(name, shape)              \
  BENCHMARK_CAPTURE(BM_Encode, name, Shape::shape); \
  BENCHMARK_CAPTURE(BM_Decode, name, Shape::shape)

OFFMON_CODEC_BENCH(memory_gauge, kMemoryGauge);
OFFMON_CODEC_BENCH(cpu_tenths, kCpuTenths);
OFFMON_CODEC_BENCH(counter, kCounter);
OFFMON_CODEC_BENCH(constant, kConstant);
OFFMON_CODEC_BENCH(random_doubles, kRandomDoubles);

}  // namespace
}  // namespace offmon::store

BENCHMARK_MAIN();
