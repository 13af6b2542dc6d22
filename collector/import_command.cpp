#include <fstream>
#include <ostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "offmon/collector/import_command.h"
#include "offmon/collector/import_parsers.h"
#include "offmon/store/store_command.h"

namespace offmon::collector {

namespace {

struct ImportOptions {
  std::string csv, openmetrics, timestamps = "s";
  bool skip_bad = false;
};

void RunImport(CliContext& ctx, const ImportOptions& options) {
  const bool is_csv = !options.csv.empty();
  const std::string& file = is_csv ? options.csv : options.openmetrics;
  std::ifstream in(file, std::ios::binary);
  if (!in) return ctx.Fail(Status::NotFound(fmt::format("import: cannot read {}", file)));
  auto store = store::OpenStoreForCommand(ctx, /*read_only=*/false);
  if (!store) return ctx.Fail(store.error());
  auto appender = (*store)->NewAppender("import:" + file);

  size_t rows = 0, bad = 0;
  auto on_row = [&](ImportRow&& row) {
    auto id = appender->Ref(row.series);
    if (!id) return;
    appender->Add(*id, row.sample.time, row.sample.value);
    ++rows;
  };
  auto on_error = [&](size_t line, const std::string& reason) {
    ++bad;
    *ctx.err << fmt::format("{}:{}: {}\n", file, line, reason);
  };
  if (is_csv) {
    ParseCsvImport(in, on_row, on_error);
  } else {
    ParseOpenMetricsImport(in, options.timestamps == "ms" ? TimestampUnit::kMilliseconds : TimestampUnit::kSeconds,
                           on_row, on_error);
  }
  if (in.bad()) {
    appender->Rollback();
    return ctx.Fail(Status::IOError(fmt::format("import: read error in {}", file)));
  }
  if (bad > 0 && !options.skip_bad) {
    appender->Rollback();
    return ctx.Fail(Status::InvalidArgument(
        fmt::format("import {}: {} bad line(s), nothing imported (--skip-bad imports the good ones)", file, bad)));
  }
  appender->AttachEvent(store::EventKind::kImport,
                        nlohmann::json{{"file", file}, {"format", is_csv ? "csv" : "openmetrics"},
                                       {"samples", rows}, {"skipped_lines", bad}}.dump());
  Status status = appender->Commit(ctx.clock->Now());
  if (!status.ok()) return ctx.Fail(status.WithContext(fmt::format("import {}", file)));
  *ctx.out << fmt::format("imported {} samples from {}{}\n", rows, file,
                          bad ? fmt::format(" ({} bad line(s) skipped)", bad) : "");
}

}  // namespace

void AddImportCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("import", "Import samples from a CSV or OpenMetrics file, all or nothing");
  auto options = std::make_shared<ImportOptions>();
  auto* csv = cmd->add_option("--csv", options->csv, "CSV file with header timestamp,series,value");
  auto* om = cmd->add_option("--openmetrics", options->openmetrics, "OpenMetrics / Prometheus text file with timestamps");
  csv->excludes(om);
  cmd->add_option("--timestamps", options->timestamps, "Unit of OpenMetrics timestamps: s (OpenMetrics) or ms (Prometheus 0.0.4 text)")
      ->check(CLI::IsMember({"s", "ms"}));
  cmd->add_flag("--skip-bad", options->skip_bad, "Import the good lines of a file that has bad ones");
  cmd->callback([&ctx, options, csv, om] {
    if (csv->count() + om->count() != 1) {
      ctx.Fail(Status::InvalidArgument("import: give exactly one of --csv FILE or --openmetrics FILE"));
      ctx.exit_code = kExitUsage;
      return;
    }
    RunImport(ctx, *options);
  });
}

}  // namespace offmon::collector
