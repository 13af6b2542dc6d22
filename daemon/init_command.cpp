// `offmon init [--output PATH] [--force] [--pm2 BINARY]`: writes a commented config for
// this host from what the collectors find on it (host_discovery_impl.h), then prints one
// line per finding. It lives in the daemon module, beside `offmon collect`, because it
// writes what drives the daemon and finds it with the collectors' own pieces (which only
// the daemon module combines); the rendering is a pure function beside it.
//
// Exit codes: 0 when the file was written, even when PM2 or the database was not found
// (the file then disables what is missing and says why, so `offmon collect` runs with
// what there is); 1 when the file exists and --force is not given, or cannot be written.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <ostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "host_discovery_impl.h"
#include "offmon/daemon/commands.h"
#include "offmon/common/time.h"

namespace offmon::daemon {

namespace {

struct InitOptions {
  std::string output = "offmon.toml";
  bool force = false;
  std::string pm2;
};

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "this host";
  return name;
}

// Writes `text` to `path`: created new unless `force` (then replaced), never half
// written over an existing file (a temporary file renamed into place).
Status WriteConfig(const std::string& path, const std::string& text, bool force) {
  if (!force) {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == EEXIST) return Status::IOError(fmt::format("{} exists: pass --force to replace it", path));
      return Status::IOError(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
    }
    close(fd);
  }
  const std::string temporary = path + ".offmon-init.tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::remove(temporary.c_str());
      return Status::IOError(fmt::format("cannot write {}", temporary));
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temporary.c_str());
    return Status::IOError(fmt::format("cannot write {}: {}", path, std::strerror(error)));
  }
  return Status::Ok();
}

void RunInit(CliContext& ctx, const InitOptions& options) {
  Config base = ctx.config;
  if (!options.pm2.empty()) base.pm2.binary = options.pm2;
  const TimePoint now = ctx.clock->Now();

  HostDiscovery host;
  collector::ProcessCommandRunner runner;
  host.pm2 = DiscoverPm2(base.pm2, runner, now);
  host.database = DiscoverDatabase(base.postgres);
  InferRoles(host);

  const std::string text =
      RenderInitConfig(host, base.postgres, fmt::format("offmon init on {} at {}", HostName(), FormatRfc3339(now)));
  // What is written must load: a rendering bug is caught here, not at the daemon's start.
  if (auto parsed = ParseConfig(text, options.output); !parsed) {
    return ctx.Fail(parsed.error().WithContext("init: the generated config does not load (a bug)"));
  }
  if (Status status = WriteConfig(options.output, text, options.force); !status.ok()) {
    return ctx.Fail(status.WithContext("init"));
  }
  std::ostream& out = *ctx.out;
  for (const std::string& line : DiscoverySummary(host)) out << line << '\n';
  out << fmt::format("wrote {}: check it with `offmon config check {}`, then `offmon --config {} collect`\n",
                     options.output, options.output, options.output);
}

}  // namespace

void AddInitCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand(
      "init", "Write a commented config for this host: the PM2 processes, database and pipeline schema found");
  auto options = std::make_shared<InitOptions>();
  cmd->add_option("--output,-o", options->output, "Where to write it (default offmon.toml)");
  cmd->add_flag("--force", options->force, "Replace the file when it exists");
  cmd->add_option("--pm2", options->pm2, "The pm2 executable (default: pm2 in PATH)");
  cmd->callback([&ctx, options] { RunInit(ctx, *options); });
}

}  // namespace offmon::daemon
