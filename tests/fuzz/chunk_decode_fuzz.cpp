// DecodeChunk on arbitrary bytes must fail cleanly (Corruption, output untouched) or
// yield strictly increasing samples that survive EncodeChunk -> DecodeChunk bit for
// bit. Sanitizers catch out-of-bounds reads and undefined behaviour on the way.
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "offmon/store/chunk_codec.h"

namespace {

using offmon::Sample;

bool SameBits(const Sample& a, const Sample& b) {
  return a.time == b.time &&
         std::bit_cast<uint64_t>(a.value) == std::bit_cast<uint64_t>(b.value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // A sample already in `out` checks both "append" and "unchanged on error".
  const Sample sentinel{offmon::FromMillis(-42), -0.0};
  std::vector<Sample> out = {sentinel};
  const offmon::Status status = offmon::store::DecodeChunk(bytes, &out);
  if (out.empty() || !SameBits(out[0], sentinel)) std::abort();
  if (!status.ok()) {
    if (status.code() != offmon::StatusCode::kCorruption || out.size() != 1) std::abort();
    return 0;
  }
  const std::span<const Sample> decoded(out.data() + 1, out.size() - 1);
  for (size_t i = 1; i < decoded.size(); ++i) {
    if (!(decoded[i - 1].time < decoded[i].time)) std::abort();
  }

  const std::string encoded = offmon::store::EncodeChunk(decoded);
  std::vector<Sample> again;
  if (!offmon::store::DecodeChunk(encoded, &again).ok()) std::abort();
  if (again.size() != decoded.size()) std::abort();
  for (size_t i = 0; i < again.size(); ++i) {
    if (!SameBits(again[i], decoded[i])) std::abort();
  }
  // The encoder is deterministic, so its output is a fixed point.
  if (offmon::store::EncodeChunk(again) != encoded) std::abort();
  return 0;
}
