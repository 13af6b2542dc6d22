#include "offmon_runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

extern char** environ;

namespace offmon::accuracy {

namespace {

struct Outcome {
  int exit_code = -1;
  std::string out, err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs argv with stdout and stderr to files in `dir`; never through a shell.
Result<Outcome> Run(const std::vector<std::string>& argv, const std::string& dir) {
  const std::string out_path = dir + "/stdout", err_path = dir + "/stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The defaults, not whatever config or store the caller's shell points at.
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "OFFMON_CONFIG=", 14) != 0 && std::strncmp(*e, "OFFMON_STORE=", 13) != 0) env.push_back(*e);
  }
  env.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::IOError(fmt::format("cannot run {}: {}", argv[0], std::strerror(rc)));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::IOError(fmt::format("waitpid {}: {}", argv[0], std::strerror(errno)));
  }
  Outcome outcome;
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  outcome.out = ReadFile(out_path);
  outcome.err = ReadFile(err_path);
  return outcome;
}

std::string Seconds(TimePoint t) { return std::to_string(ToMillis(t) / 1000); }

}  // namespace

Result<std::vector<Episode>> ParseAnalyzeJson(const std::string& output) {
  EpisodeBuilder builder;
  std::istringstream lines(output);
  std::string line;
  size_t line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (line.empty()) continue;
    try {
      const nlohmann::json j = nlohmann::json::parse(line);
      auto kind = KindFromName(j.at("alert").get<std::string>());
      if (!kind) continue;  // not a scored kind
      const std::string state = j.at("state").get<std::string>();
      const std::string severity = j.at("severity").get<std::string>();
      const nlohmann::json& labels = j.at("labels");
      std::string subject;
      if (labels.contains("process")) subject = labels["process"].get<std::string>();
      if (labels.contains("channel")) subject = labels["channel"].get<std::string>();
      const TimePoint at = FromMillis(j.at("ts").get<int64_t>() * 1000);
      if (state == "firing") {
        if (severity == "WARNING" || severity == "CRITICAL") builder.Firing(*kind, subject, at);
      } else if (state == "resolved") {
        builder.Resolved(*kind, subject, at);
      }
    } catch (const nlohmann::json::exception& e) {
      return Status::InvalidArgument(fmt::format("analyze output line {}: {}", line_no, e.what()));
    }
  }
  return builder.Take();
}

Result<std::vector<Episode>> RunOffmon(const std::string& offmon, const Scenario& scenario,
                                       const std::string& work_dir) {
  const std::string csv = work_dir + "/history.csv", store = work_dir + "/store.db";
  if (!WriteCsv(scenario, csv)) return Status::IOError(fmt::format("cannot write {}", csv));
  auto imported = Run({offmon, "--store", store, "import", "--csv", csv}, work_dir);
  if (!imported) return imported.error();
  if (imported->exit_code != 0) {
    return Status::IOError(
        fmt::format("{}: offmon import exited {}: {}", scenario.name, imported->exit_code, imported->err));
  }
  const std::string step = std::to_string(scenario.step.count() / 1000) + "s";
  auto analyzed = Run({offmon, "--store", store, "analyze", "--from", Seconds(scenario.from), "--to",
                       Seconds(scenario.to), "--step", step, "--json"},
                      work_dir);
  if (!analyzed) return analyzed.error();
  if (analyzed->exit_code != 0) {
    return Status::IOError(
        fmt::format("{}: offmon analyze exited {}: {}", scenario.name, analyzed->exit_code, analyzed->err));
  }
  auto episodes = ParseAnalyzeJson(analyzed->out);
  if (!episodes) return Status::IOError(fmt::format("{}: {}", scenario.name, episodes.error().message()));
  return episodes;
}

}  // namespace offmon::accuracy
