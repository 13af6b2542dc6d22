// Participant families: hourly epochs per channel (one `epoch_participants` sample per
// sealed epoch, at its sealed_at), 15 days of history before a 10-day judged range so
// baselines exist. Normal families: daily seasonality, offline hours (no epoch, partial
// first and last epochs of each stream), isolated single low epochs, small channels with
// high variance. Events: zero-participant epochs, real drops of 55–90 % lasting 3–8
// epochs, gradual declines to 20–35 % over one to three days.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "scenario.h"

namespace offmon::accuracy {

namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr Duration kHistory = days(15);
constexpr Duration kJudged = days(10);

struct ChannelSpec {
  double level = 3000;         // daily mean participants
  double season = 0.33;        // ± fraction over the day (0.33: the evening peak is 2× the morning trough)
  double noise = 0.07;         // relative sd of an epoch (large channels)
  bool poisson = false;        // small channels: Poisson counts around a log-normally wandering mean
  double overdispersion = 0;   // sd of that log-normal
  int online_hours = 24;       // hours streamed a day; the rest are offline (no epoch)
  double single_low_rate = 0;  // share of judged epochs that are a single low epoch (15–45 %)
  double zero_rate = 0;        // share of judged epochs with zero participants
  int drops = 0;               // real drops in the judged range
  double drop_min_depth = 0.55, drop_max_depth = 0.9;
  size_t drop_min_length = 3, drop_max_length = 8;
  bool drops_labelled = true;  // false: dips too shallow to be drops (nothing should fire)
  bool decline = false;        // one gradual decline in the judged range
  int decline_min_days = 1, decline_max_days = 3;  // its span
  double decline_min_floor = 0.2, decline_max_floor = 0.35;
};

struct FamilySpec {
  std::string family;
  bool fast = false;
  int variant = 0;
  std::vector<ChannelSpec> channels;
};

struct Event {  // a planned drop: epochs [first, first + length) at (1 - depth)
  size_t first = 0, length = 0;
  double depth = 0;
};

// One channel's epochs, windows appended to `sc`.
void GenerateChannel(const ChannelSpec& spec, const std::string& channel, Rng& rng, Scenario& sc) {
  const TimePoint start = CorpusStart();
  const int total_days = static_cast<int>((kHistory + kJudged) / days(1));
  const double peak_hour = rng.Uniform(0, 24);
  const int stream_start = static_cast<int>(rng.Uniform(0, 24));
  // The hours this channel streams: a daily schedule that moves by about an hour.
  std::vector<TimePoint> epoch_hours;  // start of each streamed hour
  std::vector<bool> stream_edge;       // first or last hour of a stream: partial
  for (int d = 0; d < total_days; ++d) {
    if (spec.online_hours >= 24) {
      for (int h = 0; h < 24; ++h) {
        epoch_hours.push_back(start + days(d) + hours(h));
        stream_edge.push_back(false);
      }
      continue;
    }
    const int begin = stream_start + static_cast<int>(std::lround(rng.Normal(0, 0.7)));
    const int length = std::clamp(spec.online_hours + static_cast<int>(std::lround(rng.Normal(0, 1))), 2, 22);
    for (int h = 0; h < length; ++h) {
      const TimePoint t = start + days(d) + hours(begin + h);
      if (!epoch_hours.empty() && t <= epoch_hours.back()) continue;
      epoch_hours.push_back(t);
      stream_edge.push_back(h == 0 || h == length - 1);
    }
  }
  const size_t n = epoch_hours.size();
  std::vector<TimePoint> sealed(n);
  for (size_t i = 0; i < n; ++i) {
    sealed[i] = epoch_hours[i] + hours(1) + seconds(static_cast<int64_t>(rng.Uniform(60, 360)));
  }
  const TimePoint judged_from = start + kHistory;
  size_t first_judged = 0;
  while (first_judged < n && sealed[first_judged] < judged_from + hours(12)) ++first_judged;
  // Consecutive online hours from i (no offline gap).
  auto consecutive = [&](size_t i, size_t length) {
    if (i + length > n) return false;
    for (size_t k = i + 1; k < i + length; ++k) {
      if (epoch_hours[k] - epoch_hours[k - 1] != hours(1)) return false;
    }
    return true;
  };
  // Drops: spread over the judged range, at least a day apart, inside one stream.
  std::vector<Event> drops;
  std::vector<bool> busy(n, false);
  for (int k = 0; k < spec.drops; ++k) {
    for (int attempt = 0; attempt < 200; ++attempt) {
      const size_t length =
          spec.drop_min_length +
          static_cast<size_t>(rng.Uniform(0, static_cast<double>(spec.drop_max_length - spec.drop_min_length + 1)));
      const size_t i = first_judged + static_cast<size_t>(rng.Uniform(0, static_cast<double>(n - first_judged)));
      if (!consecutive(i, length)) continue;
      // The whole drop and its detection inside the judged range.
      if (sealed[i + length - 1] + hours(3) > judged_from + kJudged) continue;
      bool clear = true;
      for (size_t j = (i >= 24 ? i - 24 : 0); j < std::min(n, i + length + 24); ++j) clear = clear && !busy[j];
      if (!clear) continue;
      for (size_t j = i; j < i + length; ++j) busy[j] = true;
      drops.push_back({i, length, rng.Uniform(spec.drop_min_depth, spec.drop_max_depth)});
      break;
    }
  }
  // Decline: from 1 to `floor_level` over `span`, low for `low`, then back.
  TimePoint decline_at = TimePoint::max();
  Duration decline_span{}, decline_low{};
  double decline_floor = 1;
  if (spec.decline) {
    const int span_days =
        spec.decline_min_days + static_cast<int>(rng.Uniform(0, spec.decline_max_days - spec.decline_min_days + 1));
    decline_span = hours(24 * span_days);
    decline_low = hours(12 + static_cast<int>(rng.Uniform(0, 13)));
    decline_floor = rng.Uniform(spec.decline_min_floor, spec.decline_max_floor);
    // Long declines start early enough to pass half of normal inside the judged range.
    decline_at = judged_from + hours(span_days > 3 ? 12 : 24 + static_cast<int>(rng.Uniform(0, 72)));
    // Where the level passes 60 % and 50 % of normal: the window accepts firings from the
    // first (noise of ±8 % around the threshold) and measures delay from the second.
    auto crossing_at = [&](double level) {
      const double fraction = (1 - level) / (1 - decline_floor);
      return decline_at + std::chrono::duration_cast<Duration>(decline_span * fraction);
    };
    sc.windows.push_back(Window{Kind::kParticipantDrop, channel, crossing_at(0.5), crossing_at(0.6),
                                std::min(decline_at + decline_span + decline_low + hours(2), judged_from + kJudged),
                                std::nullopt, 0});
  }
  auto decline_factor = [&](TimePoint t) {
    if (t < decline_at) return 1.0;
    if (t < decline_at + decline_span)
      return 1 - (1 - decline_floor) * std::chrono::duration<double>(t - decline_at).count() /
                     std::chrono::duration<double>(decline_span).count();
    if (t < decline_at + decline_span + decline_low) return decline_floor;
    return 1.0;
  };
  std::vector<double> drop_factor(n, 1.0);
  for (const Event& e : drops) {
    for (size_t j = e.first; j < e.first + e.length; ++j) drop_factor[j] = 1 - e.depth;
    if (!spec.drops_labelled) continue;
    sc.windows.push_back(Window{Kind::kParticipantDrop, channel, sealed[e.first], sealed[e.first],
                                sealed[e.first + e.length - 1] + hours(2), std::nullopt, 0});
  }

  SeriesData series{"epoch_participants", "channel", channel, {}};
  bool previous_low = false, previous_zero = false;
  for (size_t i = 0; i < n; ++i) {
    const double hour = std::chrono::duration<double, std::ratio<3600>>(epoch_hours[i] - start).count() + 0.5;
    double mean = spec.level * (1 + spec.season * std::cos(2 * std::numbers::pi * (hour - peak_hour) / 24));
    mean *= drop_factor[i] * decline_factor(epoch_hours[i]);
    if (stream_edge[i]) mean *= rng.Uniform(0.3, 1.0);  // the stream started or ended within the hour
    const bool judged = i >= first_judged;
    const bool free = judged && !busy[i] && decline_factor(epoch_hours[i]) == 1.0;
    bool low = false;
    if (free && !previous_low && spec.single_low_rate > 0 && rng.Uniform() < spec.single_low_rate) {
      mean *= rng.Uniform(0.15, 0.45);
      low = true;
    }
    double value = 0;
    if (spec.poisson) {
      value = rng.Poisson(mean * std::exp(rng.Normal(0, spec.overdispersion)));
    } else {
      value = std::max(0.0, std::round(mean * (1 + rng.Normal(0, spec.noise))));
    }
    bool zero = false;
    if (free && !low && spec.zero_rate > 0 && rng.Uniform() < spec.zero_rate) {
      value = 0;
      zero = true;
    }
    // Expected ZeroParticipants, held for 2 h or until the next epoch: every epoch sealed
    // with none inside the judged range, injected or drawn (a channel of a few
    // participants has genuinely empty epochs; the guide alerts on each all the same).
    zero = zero || (judged && value == 0 && sealed[i] < judged_from + kJudged);
    if (zero) {
      if (previous_zero && !sc.windows.empty() && sc.windows.back().kind == Kind::kZeroParticipants) {
        sc.windows.back().accept_until = sealed[i] + hours(2);
      } else {
        sc.windows.push_back(
            Window{Kind::kZeroParticipants, channel, sealed[i], sealed[i], sealed[i] + hours(2), std::nullopt, 0});
      }
    }
    previous_low = low;
    previous_zero = zero;
    series.samples.push_back({sealed[i], value});
  }
  sc.series.push_back(std::move(series));
}

Scenario Generate(const FamilySpec& spec, uint64_t base_seed) {
  Scenario sc;
  sc.family = spec.family;
  sc.name = fmt::format("{}:variant={}", spec.family, spec.variant);
  Rng rng(ScenarioSeed(base_seed, sc.name));
  sc.from = CorpusStart() + kHistory;
  sc.to = sc.from + kJudged;
  sc.step = minutes(5);
  for (size_t c = 0; c < spec.channels.size(); ++c) {
    GenerateChannel(spec.channels[c], fmt::format("ch{}", c + 1), rng, sc);
  }
  return sc;
}

std::vector<FamilySpec> ParticipantSpecs() {
  std::vector<FamilySpec> specs;
  for (int v = 0; v < 3; ++v) {
    FamilySpec f{"participants/seasonal", v == 0, v, {}};
    for (double level : {2000.0, 3000.0, 4000.0})
      f.channels.push_back({.level = level + 300 * v, .noise = 0.06 + 0.01 * v});
    specs.push_back(f);
  }
  for (int v = 0; v < 3; ++v) {
    FamilySpec f{"participants/offline-hours", v == 0, v, {}};
    for (int online : {8, 12, 16})
      f.channels.push_back({.level = 400.0 + 1200 * v, .noise = 0.08, .online_hours = online});
    specs.push_back(f);
  }
  for (int v = 0; v < 3; ++v) {
    FamilySpec f{"participants/single-low", v == 0, v, {}};
    for (int online : {24, 14, 10}) {
      f.channels.push_back({.level = 2500, .noise = 0.07, .online_hours = online, .single_low_rate = 0.03});
    }
    specs.push_back(f);
  }
  for (int v = 0; v < 3; ++v) {
    FamilySpec f{"participants/small-noisy", v == 0, v, {}};
    for (double level : {12.0, 25.0, 40.0}) {
      f.channels.push_back({.level = level,
                            .season = 0.3,
                            .poisson = true,
                            .overdispersion = 0.3 + 0.1 * v,
                            .online_hours = v == 2 ? 24 : 10});
    }
    specs.push_back(f);
  }
  for (int v = 0; v < 2; ++v) {
    FamilySpec f{"participants/zero-epochs", v == 0, v, {}};
    for (int online : {24, 12, 16}) f.channels.push_back({.level = 1500, .online_hours = online, .zero_rate = 0.015});
    specs.push_back(f);
  }
  for (int v = 0; v < 4; ++v) {
    FamilySpec f{"participants/drop", v == 0, v, {}};
    for (int online : {24, 14, 10}) {
      f.channels.push_back({.level = v % 2 == 0 ? 3000.0 : 600.0, .noise = 0.08, .online_hours = online, .drops = 3});
    }
    specs.push_back(f);
  }
  for (int v = 0; v < 3; ++v) {
    FamilySpec f{"participants/decline", v == 0, v, {}};
    for (int online : {24, 14, 12})
      f.channels.push_back({.level = 2500, .noise = 0.07, .online_hours = online, .decline = true});
    specs.push_back(f);
  }
  // Small channels (5–30 participants an epoch): a fall to 5–10 % for 6–8 epochs is a
  // drop; a dip to 65–70 % (12 -> 8) is not.
  for (int v = 0; v < 3; ++v) {
    FamilySpec drop{"participants/small-drop", v == 0, v, {}}, dip{"participants/small-dip", v == 0, v, {}};
    for (double level : {5.0, 12.0, 30.0}) {
      ChannelSpec c{.level = level, .season = 0.2, .poisson = true, .overdispersion = 0.2,
                    .online_hours = v == 2 ? 24 : 14, .drops = 2};
      c.drop_min_length = 6;
      c.drop_min_depth = 0.9;
      c.drop_max_depth = 0.95;
      drop.channels.push_back(c);
      c.drop_min_depth = 0.3;
      c.drop_max_depth = 0.35;
      c.drops_labelled = false;
      dip.channels.push_back(c);
    }
    specs.push_back(drop);
    specs.push_back(dip);
  }
  // Creeping declines: over 2–10 days to 10–40 % of normal, offline nights or not.
  for (int v = 0; v < 3; ++v) {
    FamilySpec f{"participants/creeping", v == 0, v, {}};
    for (int online : {24, 14, 10}) {
      ChannelSpec c{.level = 2000, .noise = 0.07, .online_hours = online, .decline = true};
      c.decline_min_days = v == 0 ? 2 : v == 1 ? 5 : 8;
      c.decline_max_days = v == 0 ? 4 : v == 1 ? 7 : 10;
      c.decline_min_floor = 0.1;
      c.decline_max_floor = 0.4;
      f.channels.push_back(c);
    }
    specs.push_back(f);
  }
  // One anomalous channel among 3–8 normal ones.
  for (int v = 0; v < 6; ++v) {
    FamilySpec f{"participants/one-of-several", v == 0, v, {}};
    const int count = 3 + v;
    const int odd = v % count;
    for (int c = 0; c < count; ++c) {
      ChannelSpec spec{.level = 400.0 + 500 * c, .noise = 0.08, .online_hours = c % 3 == 0 ? 24 : 12};
      if (c == odd) spec.drops = 3;
      f.channels.push_back(spec);
    }
    specs.push_back(f);
  }
  return specs;
}

}  // namespace

void AddParticipantScenarios(Subset subset, uint64_t seed, std::vector<Scenario>& out) {
  for (const FamilySpec& spec : ParticipantSpecs()) {
    if (subset == Subset::kFast && !spec.fast) continue;
    out.push_back(Generate(spec, seed));
  }
}

}  // namespace offmon::accuracy
