// Chunk codec. The byte format is specified in docs/chunk-encoding.md; this file and
// that document must change together (and the format version with them).
//
// Shape of the code: the encoder makes a few cheap passes (value classification,
// bit-length histograms, code-table choice) and then one writing pass; the decoder
// parses a small byte header and then runs one tight loop per column (timestamps,
// then values) over a 64-bit buffered bit reader.
#include "offmon/store/chunk_codec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>

namespace offmon::store {
namespace {

constexpr uint8_t kFormatVersion = 1;
constexpr int kMaxBuckets = 5;
// Length of the longest LEB128 encoding of a uint64.
constexpr int kMaxVarintBytes = 10;
// Flipping the sign bit maps int64 order onto uint64 order, so "strictly increasing
// without overflow" becomes a single unsigned compare per sample in the decoder.
constexpr uint64_t kSignBit = uint64_t{1} << 63;
// Integers of magnitude below 2^53 convert to double and back exactly.
constexpr double kExactIntLimit = 9007199254740992.0;
// Exact doubles; the decoder divides by these, and the encoder checks that division.
constexpr std::array<double, 4> kPow10 = {1.0, 10.0, 100.0, 1000.0};

// kConstant covers constants the integer path cannot take (NaN, -0.0, 0.1 + 0.2);
// integer constants already cost nothing per sample in kIntDelta.
enum ValueMode : uint8_t { kXor = 0, kIntDelta = 1, kIntDeltaOfDelta = 2, kConstant = 3 };

// Header cost of switching to a fresh Gorilla XOR window: 5 bits leading-zero count
// plus 6 bits length.
constexpr unsigned kXorWindowHeaderBits = 11;
constexpr unsigned kXorMaxLeading = 31;

inline uint64_t ZigZag(uint64_t x) { return (x << 1) ^ (0 - (x >> 63)); }
inline uint64_t UnZigZag(uint64_t z) { return (z >> 1) ^ (0 - (z & 1)); }
inline unsigned BitLength(uint64_t x) {
  return static_cast<unsigned>(64 - std::countl_zero(x));
}

inline uint64_t LoadBigEndian64(const uint8_t* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
  return w;
}

inline uint64_t DoubleBits(double v) { return std::bit_cast<uint64_t>(v); }
inline uint64_t TimeBits(const Sample& s) { return static_cast<uint64_t>(ToMillis(s.time)); }

// ---------------------------------------------------------------------------------
// Prefix-coded integers ("bucket codes").
//
// A table has B buckets (1..5) with payload widths w[0..B-1]. Bucket j < B-1 is
// introduced by j one-bits and a zero, the last bucket by B-1 one-bits, so the prefix
// is found with one count-leading-ones. Widths are chosen per chunk from the actual
// bit-length histogram, which is what lets a sawtooth gauge with ±100 KiB noise pay
// ~19 bits for its payload instead of a fixed 32-bit bucket.

struct CodeTable {
  int buckets = 1;
  std::array<uint8_t, kMaxBuckets> width{};
  uint64_t bits = 0;  // total encoded size of all codes, prefixes included
};

using LengthHistogram = std::array<uint64_t, 65>;

inline unsigned PrefixLength(int bucket, int buckets) {
  return static_cast<unsigned>(bucket < buckets - 1 ? bucket + 1 : bucket);
}

// Picks bucket count and widths minimising the total size (exact, by dynamic
// programming over the distinct bit lengths present). `min_buckets` is 2 for
// timestamps so that every timestamp code costs at least one bit: that bound is what
// lets the decoder cap the sample count by the input size.
CodeTable ChooseCodeTable(const LengthHistogram& hist, int min_buckets) {
  std::array<unsigned, 65> len{};
  std::array<uint64_t, 66> cum{};
  int m = 0;
  for (unsigned b = 0; b <= 64; ++b) {
    if (hist[b] == 0) continue;
    len[m] = b;
    cum[m + 1] = cum[m] + hist[b];
    ++m;
  }
  CodeTable best;
  best.buckets = min_buckets;
  if (m == 0) return best;

  // f[g][e]: cheapest cover of lengths [0, e) by buckets 0..g-1, each non-empty and
  // each paying a "non-last" prefix of j+1 bits. from[g][e]: where bucket g-1 starts.
  constexpr uint64_t kInf = std::numeric_limits<uint64_t>::max();
  uint64_t f[kMaxBuckets][66];
  uint8_t from[kMaxBuckets][66];
  for (auto& row : f) std::fill(std::begin(row), std::end(row), kInf);
  for (int e = 1; e <= m; ++e) {
    f[1][e] = (1 + len[e - 1]) * cum[e];
    from[1][e] = 0;
  }
  for (int g = 2; g < kMaxBuckets; ++g) {
    for (int e = g; e <= m; ++e) {
      const uint64_t unit = static_cast<uint64_t>(g) + len[e - 1];
      for (int s = g - 1; s < e; ++s) {
        if (f[g - 1][s] == kInf) continue;
        const uint64_t cost = f[g - 1][s] + unit * (cum[e] - cum[s]);
        if (cost < f[g][e]) {
          f[g][e] = cost;
          from[g][e] = static_cast<uint8_t>(s);
        }
      }
    }
  }

  uint64_t best_bits = kInf;
  int best_b = 0;
  int best_split = 0;  // start of the last bucket; m means the last bucket is empty
  if (min_buckets <= 1) {
    best_bits = static_cast<uint64_t>(len[m - 1]) * cum[m];
    best_b = 1;
    best_split = 0;
  }
  for (int b = 2; b <= kMaxBuckets; ++b) {
    const uint64_t unit = static_cast<uint64_t>(b - 1) + len[m - 1];
    for (int s = b - 1; s <= m; ++s) {
      if (f[b - 1][s] == kInf) continue;
      const uint64_t cost = f[b - 1][s] + unit * (cum[m] - cum[s]);
      if (cost < best_bits) {
        best_bits = cost;
        best_b = b;
        best_split = s;
      }
    }
  }

  best.buckets = best_b;
  best.bits = best_bits;
  if (best_b == 1) {
    best.width[0] = static_cast<uint8_t>(len[m - 1]);
    return best;
  }
  // Last bucket, then walk the non-last buckets backwards.
  best.width[best_b - 1] = static_cast<uint8_t>(len[m - 1]);
  int e = best_split;
  for (int g = best_b - 1; g >= 1; --g) {
    best.width[g - 1] = static_cast<uint8_t>(len[e - 1]);
    e = from[g][e];
  }
  return best;
}

// ---------------------------------------------------------------------------------
// Writers.

void PutVarint(std::string* out, uint64_t v) {
  char buf[kMaxVarintBytes];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, static_cast<size_t>(n));
}

void PutByte(std::string* out, unsigned b) { out->push_back(static_cast<char>(b)); }

void PutCodeTable(std::string* out, const CodeTable& table) {
  PutByte(out, static_cast<unsigned>(table.buckets));
  for (int j = 0; j < table.buckets; ++j) PutByte(out, table.width[j]);
}

// MSB-first bit writer appending to a string. The string is grown in large steps and
// trimmed in Finish(), so the per-code path is a shift, an OR and a rare word store.
class BitWriter {
 public:
  // `expected_bytes`: size hint for the stream; exact hints avoid any regrowth.
  BitWriter(std::string* out, size_t expected_bytes) : out_(out), pos_(out->size()) {
    out_->resize(pos_ + expected_bytes + 8);
  }

  // Appends the low `n` bits of `v` (n <= 64; the caller keeps v < 2^n).
  [[gnu::always_inline]] void Write(uint64_t v, unsigned n) {
    if (n == 0) return;
    const unsigned free = 64 - used_;
    if (n < free) {
      acc_ |= v << (free - n);
      used_ += n;
      return;
    }
    const unsigned rest = n - free;
    acc_ |= v >> rest;
    FlushWord();
    acc_ = rest == 0 ? 0 : v << (64 - rest);
    used_ = rest;
  }

  void Finish() {
    char buf[8];
    StoreWord(buf);
    const size_t bytes = (used_ + 7) / 8;
    Reserve(bytes);
    std::memcpy(out_->data() + pos_, buf, bytes);
    out_->resize(pos_ + bytes);
  }

 private:
  void StoreWord(char* dst) const {
    uint64_t be = acc_;
    if constexpr (std::endian::native == std::endian::little) be = __builtin_bswap64(be);
    std::memcpy(dst, &be, sizeof(be));
  }
  void FlushWord() {
    Reserve(8);
    StoreWord(out_->data() + pos_);
    pos_ += 8;
  }
  void Reserve(size_t bytes) {
    if (pos_ + bytes > out_->size()) [[unlikely]] {
      out_->resize(std::max(out_->size() * 2, pos_ + bytes));
    }
  }

  std::string* out_;
  size_t pos_;
  uint64_t acc_ = 0;
  unsigned used_ = 0;
};

// Writes zigzagged integers with a CodeTable. One lookup by bit length yields the
// whole prefix-plus-width recipe, keeping the per-code dependency chain short.
class CodeWriter {
 public:
  CodeWriter(BitWriter* bits, const CodeTable& table) : bits_(bits) {
    int bucket = 0;
    for (unsigned l = 0; l <= 64; ++l) {
      while (bucket < table.buckets - 1 && table.width[bucket] < l) ++bucket;
      const uint64_t ones = (uint64_t{1} << bucket) - 1;
      Recipe& r = recipe_[l];
      r.prefix = bucket < table.buckets - 1 ? ones << 1 : ones;
      r.prefix_len = static_cast<uint8_t>(PrefixLength(bucket, table.buckets));
      r.width = table.width[bucket];
    }
  }

  [[gnu::always_inline]] void Put(uint64_t z) {
    const Recipe& r = recipe_[BitLength(z)];
    const unsigned w = r.width;
    const unsigned p = r.prefix_len;
    if (w < 64 && p + w <= 64) [[likely]] {
      bits_->Write((r.prefix << w) | z, p + w);
    } else {
      bits_->Write(r.prefix, p);
      bits_->Write(z, w);
    }
  }

 private:
  struct Recipe {
    uint64_t prefix;
    uint8_t prefix_len;
    uint8_t width;
  };
  BitWriter* bits_;
  std::array<Recipe, 65> recipe_{};
};

// ---------------------------------------------------------------------------------
// Value classification.

// Fills `ints` with round(v * 10^k) if every value survives the trip back exactly
// (bit for bit, so -0.0 and NaN never qualify).
bool ScaleToIntegers(std::span<const Sample> samples, int k, int64_t* ints) {
  const double p = kPow10[static_cast<size_t>(k)];
  for (size_t i = 0; i < samples.size(); ++i) {
    const double v = samples[i].value;
    // k == 0 needs no rounding: truncation of an integral double is exact, and a
    // non-integral one fails the comparison below either way.
    const double r = k == 0 ? v : std::round(v * p);
    if (!(std::fabs(r) < kExactIntLimit)) return false;
    const int64_t n = static_cast<int64_t>(r);
    const double back = k == 0 ? static_cast<double>(n) : static_cast<double>(n) / p;
    if (DoubleBits(back) != DoubleBits(v)) return false;
    ints[i] = n;
  }
  return true;
}

// Median of a strided sample of at most 63 of the n values get(0..n-1): a good bias
// for delta coding (a counter's typical rate, a sawtooth's typical climb) that
// ignores the rare big steps a mean would chase, at a fixed cost per chunk.
template <typename Get>
uint64_t ApproximateMedian(size_t n, Get get) {
  constexpr size_t kMaxSample = 63;
  std::array<int64_t, kMaxSample> sample;
  const size_t m = n < kMaxSample ? n : kMaxSample;
  for (size_t j = 0; j < m; ++j) sample[j] = get(j * n / m);
  std::nth_element(sample.begin(), sample.begin() + m / 2, sample.begin() + m);
  return static_cast<uint64_t>(sample[m / 2]);
}

void EncodeXorValues(std::span<const Sample> samples, BitWriter* bits) {
  uint64_t prev = DoubleBits(samples[0].value);
  // The implicit first window is the whole word, so the decoder needs no "no window
  // yet" state.
  unsigned win_lead = 0;
  unsigned win_len = 64;
  for (size_t i = 1; i < samples.size(); ++i) {
    const uint64_t cur = DoubleBits(samples[i].value);
    const uint64_t x = cur ^ prev;
    prev = cur;
    if (x == 0) {
      bits->Write(0, 1);
      continue;
    }
    unsigned lead = static_cast<unsigned>(std::countl_zero(x));
    if (lead > kXorMaxLeading) lead = kXorMaxLeading;
    const unsigned trail = static_cast<unsigned>(std::countr_zero(x));
    const unsigned len = 64 - lead - trail;
    const unsigned win_trail = 64 - win_lead - win_len;
    // Reuse the previous window only when it fits and is not wider than a fresh
    // window would cost; plain Gorilla always reuses and can get stuck wide.
    if (lead >= win_lead && trail >= win_trail && win_len <= len + kXorWindowHeaderBits) {
      bits->Write(0b10, 2);
      bits->Write(x >> win_trail, win_len);
    } else {
      bits->Write(0b11, 2);
      bits->Write(lead, 5);
      bits->Write(len - 1, 6);
      bits->Write(x >> trail, len);
      win_lead = lead;
      win_len = len;
    }
  }
}

// ---------------------------------------------------------------------------------
// Readers.

class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}

  bool ReadByte(uint8_t* v) {
    if (p_ == end_) return false;
    *v = *p_++;
    return true;
  }

  bool ReadFixed64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    uint64_t r = 0;
    for (int i = 0; i < 8; ++i) r |= uint64_t{p_[i]} << (8 * i);
    p_ += 8;
    *v = r;
    return true;
  }

  bool ReadVarint(uint64_t* v) {
    uint64_t r = 0;
    for (int i = 0; i < kMaxVarintBytes; ++i) {
      if (p_ == end_) return false;
      const uint8_t b = *p_++;
      // The tenth byte holds only bit 63; anything more would be silently dropped.
      if (i == kMaxVarintBytes - 1 && b > 1) return false;
      r |= uint64_t{b & 0x7fu} << (7 * i);
      if ((b & 0x80) == 0) {
        *v = r;
        return true;
      }
    }
    return false;
  }

  bool ReadCodeTable(CodeTable* table, int min_buckets) {
    uint8_t b;
    if (!ReadByte(&b) || b < min_buckets || b > kMaxBuckets) return false;
    table->buckets = b;
    for (int j = 0; j < b; ++j) {
      if (!ReadByte(&table->width[j]) || table->width[j] > 64) return false;
    }
    return true;
  }

  const uint8_t* position() const { return p_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// MSB-first bit reader over a 64-bit window. Past the end of the data it supplies
// zero bits instead of failing, so the hot loops carry no bounds branch: the caller
// compares consumed_bits() with the real length once, after decoding. Loops are
// bounded by the sample count, so the virtual overrun is bounded too.
class BitReader {
 public:
  BitReader(const uint8_t* data, size_t size) : data_(data), size_(size) { Refill(); }

  // Afterwards at least 56 bits are available.
  void Refill() {
    if (pos_ + 8 <= size_) {
      // Branch-free refill: loads a whole word and keeps the whole bytes that fit.
      // Bits below the counted ones are real upcoming data, so re-ORing them later
      // is harmless.
      buf_ |= LoadBigEndian64(data_ + pos_) >> avail_;
      pos_ += (63 - avail_) >> 3;
      avail_ |= 56;
      return;
    }
    while (avail_ < 56) {
      const uint64_t byte = pos_ < size_ ? data_[pos_] : 0;
      buf_ |= byte << (56 - avail_);
      ++pos_;
      avail_ += 8;
    }
  }

  // Upcoming bits, MSB first; only the top available() of them are meaningful.
  uint64_t Peek() const { return buf_; }
  unsigned available() const { return avail_; }

  // n <= available().
  void Skip(unsigned n) {
    buf_ <<= n;
    avail_ -= n;
  }
  // n <= available() (which is < 64).
  uint64_t Take(unsigned n) {
    const uint64_t v = (buf_ >> 1) >> (63 - n);
    Skip(n);
    return v;
  }
  // Any n <= 64.
  uint64_t Read(unsigned n) {
    if (n > avail_) {
      Refill();
      if (n > avail_) {
        const uint64_t hi = Take(n - 32);
        Refill();
        return (hi << 32) | Take(32);
      }
    }
    return Take(n);
  }

  // May exceed 8 * size when the input was too short.
  uint64_t consumed_bits() const { return uint64_t{pos_} * 8 - avail_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  uint64_t buf_ = 0;
  unsigned avail_ = 0;
};

// Per-bucket decode tables, indexed by the (capped) count of leading one-bits.
struct CodeDecoder {
  explicit CodeDecoder(const CodeTable& table) : last(static_cast<unsigned>(table.buckets - 1)) {
    for (int j = 0; j < table.buckets; ++j) {
      prefix_len[j] = PrefixLength(j, table.buckets);
      width[j] = table.width[j];
    }
  }
  // Requires br->available() >= 56, i.e. a Refill() since the last code.
  uint64_t Next(BitReader* br) const {
    unsigned lead = static_cast<unsigned>(std::countl_one(br->Peek()));
    if (lead > last) lead = last;
    br->Skip(prefix_len[lead]);
    return br->Read(width[lead]);
  }
  unsigned last;
  std::array<unsigned, kMaxBuckets> prefix_len{};
  std::array<unsigned, kMaxBuckets> width{};
};

// Number of zero codes that start the window, for tables whose bucket 0 is "0" with
// no payload: such a run is decoded in one step. 0 when the next code is not zero.
inline size_t ZeroRun(const BitReader& br, size_t remaining) {
  size_t z = static_cast<size_t>(std::countl_zero(br.Peek()));
  if (z > br.available()) z = br.available();
  return z < remaining ? z : remaining;
}

struct Header {
  uint64_t count = 0;
  uint64_t first_time = 0;  // sign bit flipped, see kSignBit
  uint64_t first_delta = 0;
  CodeTable time_table;
  ValueMode mode = kXor;
  int scale = 0;  // k: values are integers / 10^k
  uint64_t first_value = 0;  // XOR: raw bits; integer modes: the integer
  unsigned shift = 0;
  uint64_t bias = 0;  // delta mode: added to every decoded delta
  CodeTable value_table;
};

// Biased timestamps: returns false once any step fails to move strictly forward.
inline bool DecodeTimes(BitReader* br, const Header& h, Sample* dst) {
  uint64_t t = h.first_time;
  dst[0].time = FromMillis(static_cast<int64_t>(t ^ kSignBit));
  if (h.count == 1) return true;
  uint64_t delta = h.first_delta;
  bool bad = false;
  auto step = [&](size_t i) {
    const uint64_t next = t + delta;
    bad |= next <= t;  // delta == 0 or wrapped past INT64_MAX
    t = next;
    dst[i].time = FromMillis(static_cast<int64_t>(t ^ kSignBit));
  };
  step(1);
  const size_t n = h.count;
  const CodeDecoder codes(h.time_table);
  const bool zero_runs = h.time_table.width[0] == 0;
  size_t i = 2;
  while (i < n) {
    br->Refill();
    if (zero_runs) {
      const size_t run = ZeroRun(*br, n - i);
      if (run != 0) {
        br->Skip(static_cast<unsigned>(run));
        for (const size_t end = i + run; i < end; ++i) step(i);
        continue;
      }
    }
    delta += UnZigZag(codes.Next(br));
    step(i);
    ++i;
  }
  return !bad;
}

template <bool kDeltaOfDelta, bool kScaled>
void DecodeIntValues(BitReader* br, const Header& h, Sample* dst) {
  const double p = kPow10[static_cast<size_t>(h.scale)];
  auto to_double = [&](uint64_t v) {
    const double d = static_cast<double>(static_cast<int64_t>(v));
    if constexpr (kScaled) return d / p;
    return d;
  };
  const size_t n = h.count;
  const unsigned shift = h.shift;
  uint64_t acc = h.first_value;
  // Increment applied by a zero code: the running delta (delta-of-delta) or the bias
  // (delta). All arithmetic wraps, so hostile input cannot overflow anything.
  uint64_t delta = kDeltaOfDelta ? 0 : h.bias;
  uint64_t zero_step = delta << shift;
  dst[0].value = to_double(acc);
  if (n == 1) return;
  if (h.value_table.buckets == 1 && h.value_table.width[0] == 0) {
    // Every code is zero bits wide: a constant or a constant slope.
    for (size_t i = 1; i < n; ++i) {
      acc += zero_step;
      dst[i].value = to_double(acc);
    }
    return;
  }
  const CodeDecoder codes(h.value_table);
  const bool zero_runs = h.value_table.buckets > 1 && h.value_table.width[0] == 0;
  size_t i = 1;
  while (i < n) {
    br->Refill();
    if (zero_runs) {
      const size_t run = ZeroRun(*br, n - i);
      if (run != 0) {
        br->Skip(static_cast<unsigned>(run));
        for (const size_t end = i + run; i < end; ++i) {
          acc += zero_step;
          dst[i].value = to_double(acc);
        }
        continue;
      }
    }
    const uint64_t d = UnZigZag(codes.Next(br));
    if constexpr (kDeltaOfDelta) {
      delta += d;
      zero_step = delta << shift;
      acc += zero_step;
    } else {
      acc += (d + delta) << shift;
    }
    dst[i].value = to_double(acc);
    ++i;
  }
}

// False on a window that does not fit in 64 bits.
bool DecodeXorValues(BitReader* br, const Header& h, Sample* dst) {
  uint64_t bits = h.first_value;
  double cur = std::bit_cast<double>(bits);
  dst[0].value = cur;
  unsigned win_lead = 0;
  unsigned win_len = 64;
  const size_t n = h.count;
  size_t i = 1;
  while (i < n) {
    br->Refill();
    const uint64_t window = br->Peek();
    if ((window >> 63) == 0) {
      const size_t run = ZeroRun(*br, n - i);
      br->Skip(static_cast<unsigned>(run));
      for (const size_t end = i + run; i < end; ++i) dst[i].value = cur;
      continue;
    }
    br->Skip(2);
    if ((window >> 62) == 0b11) {
      win_lead = static_cast<unsigned>(br->Take(5));
      win_len = static_cast<unsigned>(br->Take(6)) + 1;
      if (win_lead + win_len > 64) return false;
    }
    bits ^= br->Read(win_len) << (64 - win_lead - win_len);
    cur = std::bit_cast<double>(bits);
    dst[i].value = cur;
    ++i;
  }
  return true;
}

Status ParseHeader(ByteReader* r, Header* h) {
  uint8_t version;
  if (!r->ReadByte(&version)) return Status::Corruption("chunk: empty");
  if (version != kFormatVersion) return Status::Corruption("chunk: unknown format version");
  if (!r->ReadVarint(&h->count)) return Status::Corruption("chunk: truncated header");
  if (h->count == 0) return Status::Ok();

  uint64_t t0;
  if (!r->ReadVarint(&t0)) return Status::Corruption("chunk: truncated header");
  h->first_time = UnZigZag(t0) ^ kSignBit;
  if (h->count >= 2) {
    if (!r->ReadVarint(&h->first_delta)) return Status::Corruption("chunk: truncated header");
    if (h->count >= 3 && !r->ReadCodeTable(&h->time_table, 2)) {
      return Status::Corruption("chunk: bad timestamp code table");
    }
  }

  uint8_t mode_byte;
  if (!r->ReadByte(&mode_byte)) return Status::Corruption("chunk: truncated header");
  const unsigned mode = mode_byte & 0x3u;
  h->scale = (mode_byte >> 2) & 0x3;
  h->mode = static_cast<ValueMode>(mode);
  const bool integer_mode = h->mode == kIntDelta || h->mode == kIntDeltaOfDelta;
  if ((mode_byte & 0xf0) != 0 || (!integer_mode && h->scale != 0)) {
    return Status::Corruption("chunk: bad value mode");
  }
  if (!integer_mode) {
    if (!r->ReadFixed64(&h->first_value)) return Status::Corruption("chunk: truncated header");
  } else {
    uint64_t z;
    if (!r->ReadVarint(&z)) return Status::Corruption("chunk: truncated header");
    h->first_value = UnZigZag(z);
    if (h->count >= 2) {
      uint8_t shift;
      if (!r->ReadByte(&shift) || shift > 63) return Status::Corruption("chunk: bad value shift");
      h->shift = shift;
      if (h->mode == kIntDelta) {
        if (!r->ReadVarint(&z)) return Status::Corruption("chunk: truncated header");
        h->bias = UnZigZag(z);
      }
      if (!r->ReadCodeTable(&h->value_table, 1)) return Status::Corruption("chunk: bad value code table");
    }
  }

  // Samples after the second cost at least one timestamp bit each, which bounds the
  // count (and so the allocation) by the input size whatever the header claims.
  const uint64_t coded = h->count >= 2 ? h->count - 2 : 0;
  if (coded / 8 + (coded % 8 != 0) > r->remaining()) {
    return Status::Corruption("chunk: sample count exceeds data");
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeChunk(std::span<const Sample> samples) {
  const size_t n = samples.size();
  std::string out;
  PutByte(&out, kFormatVersion);
  PutVarint(&out, n);
  if (n == 0) return out;

#ifndef NDEBUG
  for (size_t i = 1; i < n; ++i) assert(samples[i - 1].time < samples[i].time);
#endif

  // Timestamps: uint64 wraparound arithmetic makes every int64 sequence representable.
  PutVarint(&out, ZigZag(TimeBits(samples[0])));
  CodeTable time_table;
  if (n >= 2) {
    PutVarint(&out, TimeBits(samples[1]) - TimeBits(samples[0]));
    if (n >= 3) {
      LengthHistogram hist{};
      uint64_t prev_delta = TimeBits(samples[1]) - TimeBits(samples[0]);
      for (size_t i = 2; i < n; ++i) {
        const uint64_t delta = TimeBits(samples[i]) - TimeBits(samples[i - 1]);
        ++hist[BitLength(ZigZag(delta - prev_delta))];
        prev_delta = delta;
      }
      time_table = ChooseCodeTable(hist, 2);
      PutCodeTable(&out, time_table);
    }
  }

  // Values: the smallest k that makes every value an exact integer.
  auto ints = std::make_unique_for_overwrite<int64_t[]>(n);
  int scale = -1;
  for (int k = 0; k < static_cast<int>(kPow10.size()); ++k) {
    if (ScaleToIntegers(samples, k, ints.get())) {
      scale = k;
      break;
    }
  }

  ValueMode mode = kXor;
  CodeTable value_table;
  unsigned shift = 0;
  uint64_t bias = 0;
  if (scale < 0) {
    const uint64_t first = DoubleBits(samples[0].value);
    bool constant = true;
    for (size_t i = 1; i < n && constant; ++i) constant = DoubleBits(samples[i].value) == first;
    if (constant) mode = kConstant;
  } else {
    // Values are below 2^53 in magnitude, so deltas and their differences fit int64;
    // uint64 arithmetic just keeps the code free of signed-overflow questions.
    uint64_t delta_bits = 0;
    for (size_t i = 1; i < n; ++i) {
      delta_bits |= static_cast<uint64_t>(ints[i]) - static_cast<uint64_t>(ints[i - 1]);
    }
    // Common trailing zero bits of the deltas, e.g. 10 for kB-granular byte counts.
    shift = delta_bits == 0 ? 0 : static_cast<unsigned>(std::countr_zero(delta_bits));
    // Exact: the shift divides every delta.
    auto delta_at = [&](size_t i) {
      return static_cast<uint64_t>((ints[i] - ints[i - 1]) >> shift);
    };
    bias = n >= 2 ? ApproximateMedian(n - 1, [&](size_t j) {
      return static_cast<int64_t>(delta_at(j + 1));
    }) : 0;
    LengthHistogram delta_hist{};
    LengthHistogram dod_hist{};
    uint64_t prev = 0;
    for (size_t i = 1; i < n; ++i) {
      const uint64_t d = delta_at(i);
      ++delta_hist[BitLength(ZigZag(d - bias))];
      ++dod_hist[BitLength(ZigZag(d - prev))];
      prev = d;
    }
    const CodeTable delta_table = ChooseCodeTable(delta_hist, 1);
    const CodeTable dod_table = ChooseCodeTable(dod_hist, 1);
    if (dod_table.bits < delta_table.bits) {
      mode = kIntDeltaOfDelta;
      value_table = dod_table;
    } else {
      mode = kIntDelta;
      value_table = delta_table;
    }
  }

  const bool integer_mode = mode == kIntDelta || mode == kIntDeltaOfDelta;
  PutByte(&out, static_cast<unsigned>(mode) | (integer_mode ? static_cast<unsigned>(scale) << 2 : 0u));
  if (!integer_mode) {
    const uint64_t v = DoubleBits(samples[0].value);
    char buf[8];
    for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
    out.append(buf, sizeof(buf));
  } else {
    PutVarint(&out, ZigZag(static_cast<uint64_t>(ints[0])));
    if (n >= 2) {
      PutByte(&out, shift);
      if (mode == kIntDelta) PutVarint(&out, ZigZag(bias));
      PutCodeTable(&out, value_table);
    }
  }

  // Exact for the coded parts; for XOR, enough for ~8 bytes per value, beyond which
  // the writer grows the string.
  BitWriter bits(&out, (time_table.bits + value_table.bits) / 8 + (mode == kXor ? 8 * n : 0));
  if (n >= 3) {
    CodeWriter codes(&bits, time_table);
    uint64_t prev_delta = TimeBits(samples[1]) - TimeBits(samples[0]);
    for (size_t i = 2; i < n; ++i) {
      const uint64_t delta = TimeBits(samples[i]) - TimeBits(samples[i - 1]);
      codes.Put(ZigZag(delta - prev_delta));
      prev_delta = delta;
    }
  }
  if (mode == kXor) {
    EncodeXorValues(samples, &bits);
  } else if (!(value_table.buckets == 1 && value_table.width[0] == 0)) {
    CodeWriter codes(&bits, value_table);
    uint64_t prev = 0;
    for (size_t i = 1; i < n; ++i) {
      const uint64_t d = static_cast<uint64_t>((ints[i] - ints[i - 1]) >> shift);
      codes.Put(ZigZag(mode == kIntDeltaOfDelta ? d - prev : d - bias));
      prev = d;
    }
  }
  bits.Finish();
  return out;
}

Status DecodeChunk(std::string_view bytes, std::vector<Sample>* out) {
  ByteReader reader(bytes);
  Header h;
  if (Status s = ParseHeader(&reader, &h); !s.ok()) return s;
  if (h.count == 0) {
    if (reader.remaining() != 0) return Status::Corruption("chunk: trailing bytes");
    return Status::Ok();
  }
  if (h.count >= 2 && (h.first_delta == 0 || h.first_time + h.first_delta < h.first_time)) {
    return Status::Corruption("chunk: timestamps not increasing");
  }

  const size_t base = out->size();
  out->resize(base + h.count);
  Sample* dst = out->data() + base;
  const size_t stream_bytes = reader.remaining();
  BitReader br(reader.position(), stream_bytes);

  bool ok = DecodeTimes(&br, h, dst);
  switch (h.mode) {
    case kXor:
      ok &= DecodeXorValues(&br, h, dst);
      break;
    case kConstant: {
      const double v = std::bit_cast<double>(h.first_value);
      for (size_t i = 0; i < h.count; ++i) dst[i].value = v;
      break;
    }
    case kIntDelta:
      h.scale == 0 ? DecodeIntValues<false, false>(&br, h, dst)
                   : DecodeIntValues<false, true>(&br, h, dst);
      break;
    case kIntDeltaOfDelta:
      h.scale == 0 ? DecodeIntValues<true, false>(&br, h, dst)
                   : DecodeIntValues<true, true>(&br, h, dst);
      break;
  }

  const char* error = nullptr;
  const uint64_t consumed = br.consumed_bits();
  const uint64_t total = uint64_t{stream_bytes} * 8;
  if (!ok) {
    error = "chunk: invalid timestamps or value window";
  } else if (consumed > total) {
    error = "chunk: truncated bit stream";
  } else if (total - consumed >= 8) {
    error = "chunk: trailing bytes";
  } else if (total != consumed) {
    br.Refill();
    if (br.Peek() >> (64 - (total - consumed)) != 0) error = "chunk: nonzero padding";
  }
  if (error != nullptr) {
    out->resize(base);
    return Status::Corruption(error);
  }
  return Status::Ok();
}

}  // namespace offmon::store
