// LEB128 varints and zigzag, shared by the store's binary encodings. Readers are bounds
// checked: they return false instead of reading past the end.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

namespace offmon::store {

inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t u) {
  return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
}

inline void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

inline void PutFixed64(std::string* out, uint64_t v) {
  char bytes[8];
  std::memcpy(bytes, &v, 8);  // little-endian hosts only (x86-64, aarch64)
  out->append(bytes, 8);
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  bool done() const { return p_ == end_; }
  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift <= 63 && p_ < end_; shift += 7) {
      auto byte = static_cast<uint8_t>(*p_++);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool Fixed64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    std::memcpy(v, p_, 8);
    p_ += 8;
    return true;
  }
  bool Bytes(size_t n, std::string_view* out) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    *out = std::string_view(p_, n);
    p_ += n;
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

// Floor division for possibly negative times (step > 0). Saturates at the earliest
// representable time, so an open-ended range (TimePoint::min()) stays valid.
inline int64_t FloorTo(int64_t t, int64_t step) {
  int64_t q = t / step;
  if ((t % step != 0) && t < 0) --q;
  if (q < std::numeric_limits<int64_t>::min() / step) return std::numeric_limits<int64_t>::min();
  return q * step;
}

}  // namespace offmon::store
