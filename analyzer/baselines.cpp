#include "offmon/analyzer/baselines.h"

#include <string>

#include "offmon/analyzer/participant_baseline.h"
#include "offmon/common/metric_names.h"

namespace offmon::analyzer {

namespace {

struct Source {
  std::string_view metric;
  std::string_view median, spread;  // the series written
  BaselineOptions options;
};

}  // namespace

Status RecordBaselines(store::Store& store, const Config& config, TimePoint now) {
  BaselineOptions participants;
  participants.window = config.analyzer.rules.at("ParticipantDrop").ParamDuration("baseline_window");
  BaselineOptions memory;
  memory.window = kProcessBaselineWindow;
  BaselineOptions cpu = memory;
  cpu.include_zero = true;  // an idle worker's 0 % is its normal, not a missing value
  const Source sources[] = {
      {metric::kEpochParticipants, metric::kBaselineParticipantsMedian, metric::kBaselineParticipantsSpread,
       participants},
      {metric::kProcessMemoryBytes, metric::kBaselineProcessMemoryBytesMedian,
       metric::kBaselineProcessMemoryBytesSpread, memory},
      {metric::kProcessCpuPercent, metric::kBaselineProcessCpuPercentMedian, metric::kBaselineProcessCpuPercentSpread,
       cpu}};
  auto appender = store.NewAppender("analyzer");
  for (const Source& source : sources) {
    auto series = store.Select(*store::Selector::Parse(source.metric));
    if (!series) return series.error();
    for (const store::SeriesInfo& info : *series) {
      auto samples = store.ReadRange(info.id, now - source.options.window, now);
      if (!samples) return samples.error();
      auto baseline = ChannelBaseline(*samples, now, source.options);
      if (!baseline) continue;
      auto median = appender->Ref(SeriesKey(source.median, info.key.labels));
      if (!median) return median.error();
      auto spread = appender->Ref(SeriesKey(source.spread, info.key.labels));
      if (!spread) return spread.error();
      appender->Add(*median, now, baseline->median);
      appender->Add(*spread, now, baseline->spread);
    }
  }
  return appender->Commit(now);
}

}  // namespace offmon::analyzer
