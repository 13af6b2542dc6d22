#include "offmon/analyzer/participant_insights.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>
#include <roaring/roaring.h>
#include <roaring/roaring.hh>

#include "offmon/common/format.h"

namespace offmon::analyzer {
namespace {

// Decodes with the C API: Roaring::readSafe reports failure by throwing, and no exception
// may leave this module. A valid bitmap must also consume every byte: trailing bytes mean
// the blob is not what the store wrote.
Result<Roaring> Decode(const store::EpochRecord& e) {
  const std::string& bytes = e.bitmap;
  auto bad = [&] {
    return Status::Corruption(fmt::format("epoch {} of channel {}: participant bitmap ({} bytes) does not decode",
                                          e.epoch, e.channel, bytes.size()));
  };
  if (bytes.empty()) return bad();
  roaring_bitmap_t* set = roaring_bitmap_portable_deserialize_safe(bytes.data(), bytes.size());
  if (set == nullptr) return bad();
  Roaring decoded(set);  // takes ownership
  if (roaring_bitmap_portable_deserialize_size(bytes.data(), bytes.size()) != bytes.size()) return bad();
  return decoded;
}

// Union of sets[from, to); empty when from == to (fastunion needs at least one input).
Roaring UnionOf(const std::vector<Roaring>& sets, size_t from, size_t to) {
  if (from >= to) return Roaring();
  std::vector<const Roaring*> inputs;
  inputs.reserve(to - from);
  for (size_t i = from; i < to; ++i) inputs.push_back(&sets[i]);
  return Roaring::fastunion(inputs.size(), inputs.data());
}

// Users present in at least `threshold` of sets[from, to). Each set holds a user once, so
// a user's number of occurrences in the concatenation is the number of epochs they were in.
Roaring PresentInAtLeast(const std::vector<Roaring>& sets, size_t from, size_t to, size_t threshold) {
  std::vector<uint32_t> ids;
  size_t total = 0;
  for (size_t i = from; i < to; ++i) total += static_cast<size_t>(sets[i].cardinality());
  ids.resize(total);
  size_t at = 0;
  for (size_t i = from; i < to; ++i) {
    sets[i].toUint32Array(ids.data() + at);
    at += static_cast<size_t>(sets[i].cardinality());
  }
  std::sort(ids.begin(), ids.end());
  std::vector<uint32_t> frequent;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j < ids.size() && ids[j] == ids[i]) ++j;
    if (j - i >= threshold) frequent.push_back(ids[i]);
    i = j;
  }
  return Roaring(frequent.size(), frequent.data());
}


}  // namespace

Result<ParticipantInsights> InsightsFor(std::span<const store::EpochRecord> epochs,
                                        const InsightsOptions& options) {
  if (epochs.empty()) return Status::InvalidArgument("participant insights: no epoch to judge");
  const size_t judged = epochs.size() - 1;
  const TimePoint t = epochs[judged].sealed_at;
  // Index of the first epoch sealed after t - d (epochs are sorted by sealed_at).
  auto first_within = [&](Duration d) {
    auto it = std::partition_point(epochs.begin(), epochs.begin() + static_cast<ptrdiff_t>(judged),
                                   [&](const store::EpochRecord& e) { return e.sealed_at <= t - d; });
    return static_cast<size_t>(it - epochs.begin());
  };
  const size_t first_24h = first_within(std::chrono::hours(24));
  const size_t first_7d = first_within(std::chrono::days(7));
  const size_t first_returning = first_within(options.returning_window);
  const size_t first_regular = std::max(first_within(options.regular_window),
                                        judged > options.regular_epochs ? judged - options.regular_epochs : 0);
  const size_t first = std::min({first_24h, first_7d, first_returning, first_regular});

  // sets[i - first] is epoch i's participant set.
  std::vector<Roaring> sets;
  sets.reserve(epochs.size() - first);
  for (size_t i = first; i < epochs.size(); ++i) {
    Result<Roaring> decoded = Decode(epochs[i]);
    if (!decoded) return decoded.error();
    sets.push_back(std::move(decoded).value());
  }
  const size_t j = judged - first;
  const Roaring& current = sets[j];

  ParticipantInsights in;
  in.participants = current.cardinality();
  in.distinct_24h = UnionOf(sets, first_24h - first, j + 1).cardinality();
  in.distinct_7d = UnionOf(sets, first_7d - first, j + 1).cardinality();
  in.returning_participants = current.and_cardinality(UnionOf(sets, first_returning - first, j));
  in.new_participants = in.participants - in.returning_participants;

  in.reference_epochs = judged - first_regular;
  if (in.reference_epochs > 0 && in.reference_epochs >= options.min_regular_epochs) {
    const size_t threshold = (in.reference_epochs + 1) / 2;
    const Roaring regulars = PresentInAtLeast(sets, first_regular - first, j, threshold);
    in.regulars = static_cast<size_t>(regulars.cardinality());
    if (in.regulars > 0) {
      in.regulars_absent_share =
          static_cast<double>(regulars.andnot_cardinality(current)) / static_cast<double>(in.regulars);
    }
  }
  return in;
}

std::string DropSummary(std::string_view channel, const DropFinding& drop,
                        const std::optional<ParticipantInsights>& insights) {
  std::string out = fmt::format("{}: {} participants vs {} {} ({:+d}%)", channel, GroupThousands(drop.participants),
                                drop.long_term ? "its level a week earlier" : "baseline",
                                GroupThousands(drop.baseline.median), std::lround(drop.change * 100));
  if (drop.live) {
    out += fmt::format("; this hour {} so far vs {} expected {} min in", GroupThousands(drop.live->participants),
                       GroupThousands(drop.live->expected),
                       std::chrono::duration_cast<std::chrono::minutes>(drop.live->elapsed).count());
  }
  if (insights && insights->regulars > 0) {
    out += fmt::format("; {}% of regulars absent", std::lround(insights->regulars_absent_share * 100));
  }
  return out;
}

}  // namespace offmon::analyzer
