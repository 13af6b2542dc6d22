// Per-channel participant baselines and the ParticipantDrop detector (guide, "Data
// Anomalies": "participant count drops >50% from baseline"). Pure functions over one
// channel's `epoch_participants` samples: one sample per sealed epoch, at its sealed_at,
// value = participant count. A channel that is not streaming has no epoch for that hour;
// a missing hour is never treated as zero. Definitions, defaults and their reasons are in
// docs/participant-baselines.md.
//
// Thread safety: stateless; any number of threads may call these at once. The alert state
// (whether the finding is already firing) belongs to the caller.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "offmon/common/sample.h"
#include "offmon/common/time.h"

namespace offmon::analyzer {

struct BaselineOptions {
  // How far back the baseline looks. Default 14 days: two weekly cycles, and long enough
  // that a drop of a few hours is a small minority of the epochs the median is taken over.
  Duration window = std::chrono::days(14);
  // Epochs whose sealed_at time of day (UTC) is within this distance of the judged time of
  // day form the seasonal subset. Default 90 min: the same hour ±1 h, plus half an hour of
  // slack so that jitter in sealed_at never moves a neighbouring hour in or out. Zero
  // disables seasonality (all epochs of the window are always used).
  Duration seasonal_tolerance = std::chrono::minutes(90);
  // The seasonal subset is used when it holds at least this many epochs, else every epoch
  // of the window. Default 8 (about three days of streaming at that hour).
  size_t min_seasonal_epochs = 8;
  // With fewer usable epochs than this in the window there is no baseline. Default 24.
  size_t min_epochs = 24;
  // Zero counts are left out by default (zero-participant epochs are the ZeroParticipants
  // alert's business and would drag the median down); a CPU baseline keeps them.
  bool include_zero = false;
};

struct Baseline {
  double median = 0;      // participants
  double spread = 0;      // median absolute deviation × 1.4826 (σ if counts were normal)
  size_t epochs = 0;      // how many epochs the median was taken over
  bool seasonal = false;  // true when only epochs at the same time of day were used
};

// The baseline of one channel at `at`: median and scaled MAD of the epochs with
// at - window <= time < at whose count is positive and finite (zero-participant epochs are
// the ZeroParticipants alert's business and would drag the median down). `history` is one
// channel's samples sorted by time; samples outside the window are skipped by binary
// search, so passing a longer history is cheap. nullopt when fewer than min_epochs usable
// epochs lie in the window. Does not allocate for windows of up to 512 epochs.
std::optional<Baseline> ChannelBaseline(std::span<const Sample> history, TimePoint at,
                                        const BaselineOptions& options = {});

// "baseline 2,150 ±180": median and spread rounded to whole participants.
std::string FormatBaseline(const Baseline& baseline);

struct DropOptions {
  // An epoch is low when it is more than this fraction below its baseline's median
  // (strictly: exactly 50 % below is not low). Default 0.5, the guide's threshold.
  double drop_ratio = 0.5;
  // Consecutive low epochs needed to fire. Default 2, so a single low epoch (a stream that
  // started at :50, a chat outage of minutes) never fires on its own.
  int consecutive = 2;
  // A low epoch must also lie more than this many spreads below the median, so channels
  // whose counts swing widely (small channels) do not cry wolf. The spread used here is at
  // least sqrt(median), the counting noise of a Poisson count. Default 3.
  double min_sigmas = 3;
  // Hysteresis: a firing drop resolves once an epoch is above this fraction of its
  // baseline (or within min_sigmas spreads of it). Default 0.7.
  double resolve_ratio = 0.7;
  // With no epoch for longer than this the channel is offline, which is never a drop; a
  // gap this long between two epochs also ends a run of low epochs. Default 150 min: one
  // missing hourly epoch plus sealing jitter.
  Duration offline_after = std::chrono::minutes(150);
  // The open epoch's participation so far (`channel_participation_current`, see
  // DetectParticipantDrop) stands in for one of the `consecutive` low epochs once this
  // much of its hour has passed. Default 10 min: fewer users make a noisy count.
  Duration live_min_elapsed = std::chrono::minutes(10);
  // A live sample older than this is not the present. Default 10 min.
  Duration live_max_age = std::chrono::minutes(10);
  // Past epochs whose live samples teach how much of an hour's final count is seen by a
  // given minute. Default 48; fewer than 4 with a sample near that minute: the share is
  // taken as the fraction of the hour elapsed, which expects fewer users than the
  // front-loaded real curve and so confirms later, never sooner.
  size_t live_learn_epochs = 48;
  // Channels whose baseline is below this many participants an epoch are judged with
  // count statistics: the low epochs' total must be below drop_ratio by more than its
  // Poisson noise, so 12 -> 8 (which can draw 5 and 4) does not fire and 12 -> 1 does.
  // Above it the participant count is a census and the ratio alone decides. Default 100.
  double small_channel = 100;
  // The long-term reference: the channel's level (median, same time of day when there
  // are enough such epochs) over `long_term_window` ending `long_term_lag` before each
  // judged epoch. A decline slow enough that the seasonal baseline follows it down still
  // fires once it is below half of where the channel was a week or more ago. Defaults
  // 7 days and 7 days: the week before last. A zero window disables it.
  Duration long_term_lag = std::chrono::days(7);
  Duration long_term_window = std::chrono::days(7);
  BaselineOptions baseline;
};

// What the open epoch's live participation showed when it confirmed a drop.
struct LiveConfirmation {
  double participants = 0;  // distinct users so far in the open epoch
  double expected = 0;      // what the baseline hour had seen by the same minute
  Duration elapsed{};       // time into the open epoch's hour
};

struct DropFinding {
  double participants = 0;  // the latest non-zero epoch's count
  Baseline baseline;        // that epoch's baseline, from the epochs before the run
  double change = 0;        // participants / baseline.median - 1, e.g. -0.68
  int consecutive = 0;      // non-zero epochs in the run, the latest included
  TimePoint since;          // sealed_at of the run's first epoch
  TimePoint latest;         // sealed_at of the latest non-zero epoch
  // Set when the open epoch's live count stood in for a sealed low epoch.
  std::optional<LiveConfirmation> live;
  // True when judged against the long-term reference (a slow decline): `baseline` is
  // then the channel's level long_term_lag earlier.
  bool long_term = false;
};

// Judges the latest epoch at `now`. `epochs` is one channel's samples, sorted by time,
// covering at least options.baseline.window before now; samples after `now` are ignored.
//
// The run is the trailing sequence of non-zero epochs, with no gap longer than
// offline_after, each at or below resolve_ratio of the baseline taken from the epochs
// before it; zero-participant epochs inside it are skipped, not counted (in a small
// channel, baseline under small_channel, zero is a low count like any other). Each epoch of the
// run is then judged against the baseline at its own time of day taken only from epochs
// before the run, so the drop being judged never lowers its own baseline.
//
// Returns a finding when !already_firing and the last `consecutive` epochs of the run are
// each low (see drop_ratio and min_sigmas), or when already_firing and the latest epoch
// has not recovered (see resolve_ratio). nullopt when the channel is offline, the latest
// non-zero epoch is normal, or there is too little history for a baseline; a run that
// outlasts the baseline window therefore resolves: the new level has become the normal.
//
// `live` (may be empty) is the channel's `channel_participation_current` samples: distinct
// users seen so far in the open (not yet sealed) epoch, the hour containing each sample's
// time. When the run is one epoch short of `consecutive`, its latest epoch is the hour
// just before the open one, at least live_min_elapsed of the open hour has passed and
// the latest live sample (at most live_max_age old) is low against the open hour's
// baseline scaled to the same minute of the hour, the open epoch counts as the missing
// low epoch: a drop plain to see fires minutes into the next hour instead of an hour
// later. A single low epoch that the live hour does not confirm stays quiet.
//
// The deciding epochs must each be more than drop_ratio below their baselines, and the
// run as a whole significantly so (count statistics: the participants missing over the
// run against the noise of their sum, each epoch's spread being at least the Poisson
// sqrt(median)), so a small channel fires once enough low epochs add up.
//
// When that finds nothing, the latest `consecutive` epochs (across offline hours) are
// judged the same way against the long-term reference (see long_term_lag), and a firing
// long-term finding holds while the latest epoch has not recovered against it.
//
// Cost: one baseline (a scan of the window and two nth_element calls over the chosen
// epochs, about 42 seasonal ones) per epoch of the run plus `consecutive`; the usual run
// is empty, so about a microsecond per call. No allocation, except when the live hour is
// consulted (one short run of low epochs).
std::optional<DropFinding> DetectParticipantDrop(std::span<const Sample> epochs, TimePoint now,
                                                 bool already_firing, const DropOptions& options = {},
                                                 std::span<const Sample> live = {});

}  // namespace offmon::analyzer
