#include "offmon/store/chunk_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace offmon::store {
namespace {

constexpr int64_t kStart = 1'763'182'230'000;  // 2025-11-15T04:50:30Z
constexpr int64_t kGrid = 10'000;
constexpr size_t kChunk = 720;

Sample At(int64_t ms, double value) { return Sample{FromMillis(ms), value}; }

std::vector<Sample> OnGrid(const std::vector<double>& values, int64_t start = kStart,
                           int64_t step = kGrid) {
  std::vector<Sample> out;
  out.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    out.push_back(At(start + static_cast<int64_t>(i) * step, values[i]));
  }
  return out;
}

// Bitwise comparison: operator== would call NaN != NaN and -0.0 == 0.0.
::testing::AssertionResult SameBits(const std::vector<Sample>& want,
                                    const std::vector<Sample>& got) {
  if (want.size() != got.size()) {
    return ::testing::AssertionFailure()
           << "size " << got.size() << ", want " << want.size();
  }
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].time != got[i].time) {
      return ::testing::AssertionFailure()
             << "time[" << i << "] = " << ToMillis(got[i].time) << ", want "
             << ToMillis(want[i].time);
    }
    if (std::bit_cast<uint64_t>(want[i].value) != std::bit_cast<uint64_t>(got[i].value)) {
      return ::testing::AssertionFailure()
             << "value[" << i << "] = " << got[i].value << " (bits " << std::hex
             << std::bit_cast<uint64_t>(got[i].value) << "), want " << want[i].value
             << " (bits " << std::bit_cast<uint64_t>(want[i].value) << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

// Encodes, decodes, checks the round trip; returns the encoded size.
size_t RoundTrip(const std::vector<Sample>& samples) {
  const std::string bytes = EncodeChunk(samples);
  std::vector<Sample> decoded;
  const Status s = DecodeChunk(bytes, &decoded);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(SameBits(samples, decoded));
  return bytes.size();
}

double BytesPerSample(const std::vector<Sample>& samples) {
  return static_cast<double>(RoundTrip(samples)) / static_cast<double>(samples.size());
}

TEST(ChunkCodecTest, RoundTripsEmptyChunk) {
  const std::string bytes = EncodeChunk({});
  EXPECT_LE(bytes.size(), 2u);
  std::vector<Sample> out = {At(1, 2)};
  ASSERT_TRUE(DecodeChunk(bytes, &out).ok());
  EXPECT_EQ(out.size(), 1u);
}

TEST(ChunkCodecTest, RoundTripsOneSample) {
  RoundTrip({At(kStart, 42)});
  RoundTrip({At(kStart, 0.1 + 0.2)});
  RoundTrip({At(-5, -7.5)});
  RoundTrip({At(std::numeric_limits<int64_t>::min(), std::nan(""))});
  RoundTrip({At(std::numeric_limits<int64_t>::max(), -0.0)});
}

TEST(ChunkCodecTest, RoundTripsTwoAndThreeSamples) {
  RoundTrip({At(0, 1), At(1, 2)});
  RoundTrip({At(0, 1.5), At(10, 1.5), At(20, 2.5)});
  RoundTrip({At(-1, 0.3), At(0, -0.3), At(1000, 1e300)});
}

TEST(ChunkCodecTest, AppendsToExistingOutput) {
  const std::vector<Sample> a = OnGrid({1, 2, 3});
  const std::vector<Sample> b = OnGrid({4, 5}, kStart + 100 * kGrid);
  std::vector<Sample> out;
  ASSERT_TRUE(DecodeChunk(EncodeChunk(a), &out).ok());
  ASSERT_TRUE(DecodeChunk(EncodeChunk(b), &out).ok());
  std::vector<Sample> want = a;
  want.insert(want.end(), b.begin(), b.end());
  EXPECT_TRUE(SameBits(want, out));
}

TEST(ChunkCodecTest, RoundTripsGridTimestampsInOneBitEach) {
  const std::vector<Sample> samples = OnGrid(std::vector<double>(kChunk, 1.0));
  const size_t size = RoundTrip(samples);
  // 718 delta-of-delta codes at 1 bit, constant values at 0 bits, plus the header.
  EXPECT_LE(size, kChunk / 8 + 24);
  EXPECT_LT(size, 200u);
}

TEST(ChunkCodecTest, RoundTripsGridTimestampsWithConstantNonIntegerValue) {
  const std::vector<Sample> samples = OnGrid(std::vector<double>(kChunk, 0.1 + 0.2));
  EXPECT_LT(RoundTrip(samples), 200u);
}

TEST(ChunkCodecTest, NonIntegerConstantCostsNoValueBits) {
  for (double v : {0.1 + 0.2, std::nan(""), -0.0}) {
    // 718 one-bit timestamp codes and the header; values stored once.
    EXPECT_LE(RoundTrip(OnGrid(std::vector<double>(kChunk, v))), kChunk / 8 + 32);
  }
}

// The worked example in docs/chunk-encoding.md; a failure here means the format
// changed and the document (and probably the version byte) must change with it.
TEST(ChunkCodecTest, MatchesDocumentedExample) {
  const std::vector<Sample> samples = {At(1000, 5), At(2000, 5), At(3000, 6)};
  const std::string want("\x01\x03\xd0\x0f\xe8\x07\x02\x00\x00\x01\x0a\x00\x02\x01\x01\x40",
                         16);
  EXPECT_EQ(EncodeChunk(samples), want);
  std::vector<Sample> out;
  ASSERT_TRUE(DecodeChunk(want, &out).ok());
  EXPECT_TRUE(SameBits(samples, out));
}

TEST(ChunkCodecTest, RoundTripsJitteredTimestamps) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<int64_t> jitter(-15, 15);
  std::vector<Sample> samples;
  for (size_t i = 0; i < kChunk; ++i) {
    samples.push_back(At(kStart + static_cast<int64_t>(i) * kGrid + jitter(rng), 5));
  }
  // Jitter of ±15 ms gives delta-of-deltas within ±30: about 7 bits per timestamp.
  EXPECT_LT(BytesPerSample(samples), 1.2);
}

TEST(ChunkCodecTest, RoundTripsIrregularTimestamps) {
  std::mt19937_64 rng(2);
  std::uniform_int_distribution<int64_t> gap(30'000, 30 * 60'000);
  std::vector<Sample> samples;
  int64_t t = kStart;
  for (size_t i = 0; i < 500; ++i) {
    t += gap(rng);
    samples.push_back(At(t, static_cast<double>(i)));
  }
  RoundTrip(samples);
}

TEST(ChunkCodecTest, RoundTripsNegativeTimestamps) {
  std::vector<Sample> samples;
  for (int64_t i = 0; i < 100; ++i) samples.push_back(At(-1'000'000 + i * 20'000, 1));
  RoundTrip(samples);
}

TEST(ChunkCodecTest, RoundTripsExtremeTimestampSpacing) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  // Deltas near 2^64 and delta-of-deltas that overflow int64 both must survive.
  RoundTrip({At(kMin, 1), At(kMax, 2)});
  RoundTrip({At(kMin, 1), At(kMin + 1, 2), At(kMax, 3)});
  RoundTrip({At(kMin, 1), At(kMax - 1, 2), At(kMax, 3)});
  RoundTrip({At(kMin, 1), At(-1, 2), At(0, 3), At(kMax, 4)});
  RoundTrip({At(kMin, 1), At(kMin + 1, 2), At(kMin + 2, 3), At(kMax - 1, 4), At(kMax, 5)});
  std::vector<Sample> wide;
  for (int i = 0; i < 64; ++i) {
    wide.push_back(At(kMin + static_cast<int64_t>(uint64_t{1} << (i / 2)) * (i % 2) +
                          (int64_t{1} << 57) * (i / 2),
                      i));
  }
  RoundTrip(wide);
}

TEST(ChunkCodecTest, RoundTripsIntegerValues) {
  RoundTrip(OnGrid({0, 1, -1, 1e15, -1e15, 9007199254740991.0, -9007199254740991.0, 3}));
  RoundTrip(OnGrid({9007199254740992.0, 1}));  // 2^53: just past the integer path
  RoundTrip(OnGrid({1e300, -1e300, 5}));
}

TEST(ChunkCodecTest, RoundTripsDecimalScaledValues) {
  RoundTrip(OnGrid({12.3, 12.4, 0.1, -99.9}));           // k = 1
  RoundTrip(OnGrid({0.125, 0.25, 1.5, -3.875, 1000}));  // k = 3
  RoundTrip(OnGrid({0.01, 0.99, 1.23}));                // k = 2
}

TEST(ChunkCodecTest, NonDecimalSumTakesXorPathAndRoundTrips) {
  // 0.1 + 0.2 is 0.30000000000000004: no k <= 3 reproduces it, so a chunk of such
  // values must fall back to XOR; a wrong integer path would decode 0.3 instead.
  const double v = 0.1 + 0.2;
  ASSERT_NE(v, 0.3);
  std::vector<double> values;
  for (int i = 0; i < 100; ++i) values.push_back(i % 2 == 0 ? v : 0.3);
  RoundTrip(OnGrid(values));
  RoundTrip(OnGrid({v}));
  RoundTrip(OnGrid({1, 2, v, 4}));
}

TEST(ChunkCodecTest, RoundTripsSpecialDoubles) {
  const double inf = std::numeric_limits<double>::infinity();
  const double qnan_payload = std::bit_cast<double>(uint64_t{0x7ff8'0000'dead'beef});
  const double snan_payload = std::bit_cast<double>(uint64_t{0x7ff0'0000'0000'0001});
  const double neg_nan = std::bit_cast<double>(uint64_t{0xfff8'0000'0000'1234});
  const double denormal = std::numeric_limits<double>::denorm_min();
  RoundTrip(OnGrid({qnan_payload, snan_payload, neg_nan, -0.0, 0.0, inf, -inf, denormal}));
  RoundTrip(OnGrid({-0.0, -0.0, -0.0}));  // -0.0 must not become an integer 0
  RoundTrip(OnGrid({1, 2, -0.0, 3}));
  RoundTrip(OnGrid({1.5, inf, 2.5}));
  RoundTrip(OnGrid({std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest(),
                    std::numeric_limits<double>::min()}));
}

TEST(ChunkCodecTest, RoundTripsMixedValues) {
  std::mt19937_64 rng(3);
  std::vector<double> values;
  for (int i = 0; i < 1000; ++i) {
    switch (i % 5) {
      case 0: values.push_back(static_cast<double>(i)); break;
      case 1: values.push_back(std::uniform_real_distribution<double>(-1, 1)(rng)); break;
      case 2: values.push_back(values.back()); break;
      case 3: values.push_back(std::bit_cast<double>(rng())); break;
      default: values.push_back(i * 0.1); break;
    }
  }
  RoundTrip(OnGrid(values));
}

std::vector<Sample> MemoryGauge(size_t n, uint64_t seed) {
  // A GC'd heap: grows by ~1 MiB per sample with ±64 KiB of noise, collected back
  // down every 30 samples.
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 64 * 1024);
  std::vector<double> values;
  double base = 900e6;
  for (size_t i = 0; i < n; ++i) {
    if (i % 30 == 0) base = 900e6 + noise(rng) * 10;
    base += 1024 * 1024;
    values.push_back(std::round(base + noise(rng)));
  }
  return OnGrid(values);
}

TEST(ChunkCodecTest, MemoryGaugeTakesUnderThreeAndAHalfBytesPerSample) {
  EXPECT_LT(BytesPerSample(MemoryGauge(kChunk, 4)), 3.5);
}

TEST(ChunkCodecTest, KilobyteGranularGaugeUsesCommonTrailingZeros) {
  std::vector<Sample> samples = MemoryGauge(kChunk, 5);
  for (Sample& s : samples) s.value = std::round(s.value / 1024) * 1024;
  // Ten bits of every delta are known zeros and not stored.
  EXPECT_LT(BytesPerSample(samples), 2.2);
}

TEST(ChunkCodecTest, CpuTenthsTakeUnderOneAndAHalfBytesPerSample) {
  std::mt19937_64 rng(6);
  std::normal_distribution<double> step(0, 15);
  std::vector<double> values;
  int tenths = 123;
  for (size_t i = 0; i < kChunk; ++i) {
    tenths = std::clamp(tenths + static_cast<int>(step(rng)), 0, 1000);
    values.push_back(tenths / 10.0);
  }
  EXPECT_LT(BytesPerSample(OnGrid(values)), 1.5);
}

TEST(ChunkCodecTest, SteadyCounterTakesWellUnderOneBytePerSample) {
  std::mt19937_64 rng(7);
  std::poisson_distribution<int> requests(3);
  std::vector<double> values;
  double total = 1e9;
  for (size_t i = 0; i < kChunk; ++i) {
    total += requests(rng);
    values.push_back(total);
  }
  EXPECT_LT(BytesPerSample(OnGrid(values)), 0.75);
}

TEST(ChunkCodecTest, LinearCounterUsesDeltaOfDelta) {
  std::vector<double> values;
  for (size_t i = 0; i < kChunk; ++i) values.push_back(1e12 + 12345.0 * static_cast<double>(i));
  // Constant delta: one bit per timestamp and at most one per value.
  EXPECT_LE(RoundTrip(OnGrid(values)), 2 * kChunk / 8 + 32);
}

// Encodes `samples` and checks that every proper prefix of the bytes is rejected.
void ExpectEveryTruncationIsCorruption(const std::vector<Sample>& samples) {
  const std::string bytes = EncodeChunk(samples);
  const std::vector<Sample> sentinel = {At(7, 7), At(8, 8)};
  for (size_t len = 0; len < bytes.size(); ++len) {
    std::vector<Sample> out = sentinel;
    const Status s = DecodeChunk(std::string_view(bytes).substr(0, len), &out);
    EXPECT_EQ(s.code(), StatusCode::kCorruption)
        << "prefix of " << len << "/" << bytes.size() << " bytes";
    EXPECT_TRUE(SameBits(sentinel, out)) << "prefix of " << len << " bytes";
  }
}

TEST(ChunkCodecTest, EveryTruncationIsCorruptionAndLeavesOutputUnchanged) {
  ExpectEveryTruncationIsCorruption({});
  ExpectEveryTruncationIsCorruption({At(kStart, 1)});
  ExpectEveryTruncationIsCorruption({At(kStart, 0.1 + 0.2)});
  ExpectEveryTruncationIsCorruption({At(kStart, 1), At(kStart + 1, 1)});
  ExpectEveryTruncationIsCorruption(OnGrid(std::vector<double>(kChunk, 1.0)));
  ExpectEveryTruncationIsCorruption(MemoryGauge(200, 8));
  ExpectEveryTruncationIsCorruption(OnGrid({12.3, 12.5, 12.1, 13.0}));
  ExpectEveryTruncationIsCorruption(OnGrid({0.1 + 0.2, 0.7, std::nan(""), -0.0}));
}

TEST(ChunkCodecTest, RejectsTrailingBytesAndUnknownVersion) {
  const std::string bytes = EncodeChunk(OnGrid({1, 2, 3}));
  std::vector<Sample> out;
  EXPECT_EQ(DecodeChunk(bytes + std::string(1, '\0'), &out).code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeChunk(bytes + "xyz", &out).code(), StatusCode::kCorruption);
  std::string other_version = bytes;
  other_version[0] = static_cast<char>(other_version[0] + 1);
  EXPECT_EQ(DecodeChunk(other_version, &out).code(), StatusCode::kCorruption);
  EXPECT_TRUE(out.empty());
}

TEST(ChunkCodecTest, RejectsHugeSampleCountWithoutAllocating) {
  // Version 1, count 2^63, then a few bytes: must fail on the count bound, not try to
  // reserve 2^67 bytes.
  std::string bytes = "\x01";
  for (int i = 0; i < 9; ++i) bytes.push_back(static_cast<char>(0x80));
  bytes.push_back(0x01);
  bytes += std::string(16, '\0');
  std::vector<Sample> out;
  EXPECT_EQ(DecodeChunk(bytes, &out).code(), StatusCode::kCorruption);
  EXPECT_EQ(out.capacity(), 0u);
}

TEST(ChunkCodecTest, RejectsNonIncreasingTimestamps) {
  // Flip bits across a small chunk; whatever decodes must still be strictly increasing.
  const std::string bytes = EncodeChunk(OnGrid({1, 2, 3, 4, 5, 6, 7, 8}));
  for (size_t i = 0; i < bytes.size() * 8; ++i) {
    std::string mutated = bytes;
    mutated[i / 8] = static_cast<char>(mutated[i / 8] ^ (1 << (i % 8)));
    std::vector<Sample> out;
    if (!DecodeChunk(mutated, &out).ok()) {
      EXPECT_TRUE(out.empty());
      continue;
    }
    for (size_t j = 1; j < out.size(); ++j) EXPECT_LT(out[j - 1].time, out[j].time);
  }
}

TEST(ChunkCodecTest, RoundTripsRandomShapes) {
  std::mt19937_64 rng(0x0ff3'0a11);
  auto uniform = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  constexpr double kPow10[] = {1, 10, 100, 1000};
  for (int iter = 0; iter < 1500; ++iter) {
    const size_t n = static_cast<size_t>(uniform(0, 3) == 0 ? uniform(0, 5) : uniform(0, 2000));
    // Timestamps: start anywhere, steps from tiny to huge, sometimes a grid.
    const int time_shape = static_cast<int>(uniform(0, 4));
    const int value_shape = static_cast<int>(uniform(0, 7));
    const int k = static_cast<int>(uniform(0, 3));
    std::vector<Sample> samples;
    samples.reserve(n);
    uint64_t t = time_shape == 4 ? rng() : kStart;
    const uint64_t base_step = uniform(1, time_shape == 3 ? (uint64_t{1} << 50) : 3'600'000);
    double v = static_cast<double>(static_cast<int64_t>(uniform(0, 1'000'000'000))) - 5e8;
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) {
        uint64_t step = base_step;
        if (time_shape == 1) step += uniform(0, 20);
        if (time_shape >= 2) step = uniform(1, base_step);
        // Stop before passing INT64_MAX; the chunk is then shorter.
        const uint64_t room = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - t;
        if (step > room) break;
        t += step;
      }
      switch (value_shape) {
        case 0: v = 42; break;
        case 1: v += static_cast<double>(static_cast<int64_t>(uniform(0, 200))) - 100; break;
        case 2:
          v = std::round(v * kPow10[k] + static_cast<double>(uniform(0, 50))) / kPow10[k];
          break;
        case 3: v = std::bit_cast<double>(rng()); break;
        case 4: v = std::uniform_real_distribution<double>(-1e6, 1e6)(rng); break;
        case 5: v = static_cast<double>(i) * 1e9; break;
        case 6: v = uniform(0, 9) == 0 ? std::nan("") : std::sin(static_cast<double>(i)); break;
        default:
          v = static_cast<double>(static_cast<int64_t>(rng() >> uniform(11, 63))) *
              (uniform(0, 1) ? 1 : -1);
          break;
      }
      samples.push_back(At(static_cast<int64_t>(t), v));
    }
    SCOPED_TRACE(::testing::Message() << "iteration " << iter << " n=" << samples.size()
                                      << " time_shape=" << time_shape
                                      << " value_shape=" << value_shape);
    RoundTrip(samples);
    if (HasFailure()) break;
  }
}

TEST(ChunkCodecTest, DecodesLargeChunks) {
  std::vector<double> values(1'000'000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i % 977);
  RoundTrip(OnGrid(values, -kStart, 1));
}

}  // namespace
}  // namespace offmon::store
