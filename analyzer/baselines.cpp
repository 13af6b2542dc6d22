#include "offmon/analyzer/baselines.h"

#include <string>

#include "offmon/analyzer/participant_baseline.h"

namespace offmon::analyzer {

namespace {

struct Source {
  const char* metric;
  const char* baseline;  // the written series are baseline + "_median" / "_spread"
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
  const Source sources[] = {{"epoch_participants", "baseline_participants", participants},
                            {"process_memory_bytes", "baseline_process_memory_bytes", memory},
                            {"process_cpu_percent", "baseline_process_cpu_percent", cpu}};
  auto appender = store.NewAppender("analyzer");
  for (const Source& source : sources) {
    auto series = store.Select(*store::Selector::Parse(source.metric));
    if (!series) return series.error();
    for (const store::SeriesInfo& info : *series) {
      auto samples = store.ReadRange(info.id, now - source.options.window, now);
      if (!samples) return samples.error();
      auto baseline = ChannelBaseline(*samples, now, source.options);
      if (!baseline) continue;
      auto median = appender->Ref(SeriesKey(std::string(source.baseline) + "_median", info.key.labels));
      if (!median) return median.error();
      auto spread = appender->Ref(SeriesKey(std::string(source.baseline) + "_spread", info.key.labels));
      if (!spread) return spread.error();
      appender->Add(*median, now, baseline->median);
      appender->Add(*spread, now, baseline->spread);
    }
  }
  return appender->Commit(now);
}

}  // namespace offmon::analyzer
