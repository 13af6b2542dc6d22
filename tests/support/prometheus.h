// A real Prometheus from Debian's `prometheus` package for the tests that scrape offmon or
// receive its remote write: its config and TSDB in a test's temp dir, listening on
// 127.0.0.1:port.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace offmon::testing {

inline constexpr const char* kPrometheus = "/usr/bin/prometheus";

// The command line of a Prometheus reading DIR/prom.yml and keeping its TSDB in DIR/tsdb,
// plus `extra` flags (e.g. --web.enable-remote-write-receiver).
inline std::vector<std::string> PrometheusArgv(const std::filesystem::path& dir, uint16_t port,
                                               std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {kPrometheus, "--config.file=" + (dir / "prom.yml").string(),
                                   "--storage.tsdb.path=" + (dir / "tsdb").string(),
                                   "--web.listen-address=127.0.0.1:" + std::to_string(port)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

}  // namespace offmon::testing
