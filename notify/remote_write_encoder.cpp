#include "offmon/notify/remote_write_encoder.h"

#include <algorithm>

#include <snappy.h>

#include "proto/remote_write.pb.h"

namespace offmon::notify {

std::string EncodeWriteRequest(const std::vector<RemoteWriteSeries>& series) {
  prometheus::WriteRequest request;
  request.mutable_timeseries()->Reserve(static_cast<int>(series.size()));
  for (const RemoteWriteSeries& s : series) {
    prometheus::TimeSeries* ts = request.add_timeseries();
    Labels labels = s.labels;
    labels.push_back({"__name__", s.name});
    std::sort(labels.begin(), labels.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
    for (const Label& l : labels) {
      prometheus::Label* out = ts->add_labels();
      out->set_name(l.name);
      out->set_value(l.value);
    }
    ts->mutable_samples()->Reserve(static_cast<int>(s.samples.size()));
    for (const Sample& sample : s.samples) {
      prometheus::Sample* out = ts->add_samples();
      out->set_value(sample.value);
      out->set_timestamp(ToMillis(sample.time));
    }
  }
  std::string raw;
  request.SerializeToString(&raw);
  std::string compressed;
  snappy::Compress(raw.data(), raw.size(), &compressed);
  return compressed;
}

Result<std::vector<RemoteWriteSeries>> DecodeWriteRequest(std::string_view body) {
  std::string raw;
  if (!snappy::Uncompress(body.data(), body.size(), &raw)) return Status::InvalidArgument("not snappy block data");
  prometheus::WriteRequest request;
  if (!request.ParseFromString(raw)) return Status::InvalidArgument("not a prometheus.WriteRequest");
  std::vector<RemoteWriteSeries> out;
  for (const prometheus::TimeSeries& ts : request.timeseries()) {
    RemoteWriteSeries s;
    for (const prometheus::Label& l : ts.labels()) {
      if (l.name() == "__name__") {
        s.name = l.value();
      } else {
        s.labels.push_back({l.name(), l.value()});
      }
    }
    for (const prometheus::Sample& sample : ts.samples()) s.samples.push_back({FromMillis(sample.timestamp()), sample.value()});
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace offmon::notify
