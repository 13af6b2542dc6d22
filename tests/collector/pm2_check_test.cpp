// `offmon check` against real PM2 (label pm2): the binary's one-shot judges on its first
// run. A worker stopped in PM2 is pending ProcessOffline for its rule's `for` (1 min);
// the check still reports it, as a soft WARNING with exit 1, on a fresh store and again
// on the next run, never "Status: OK" above the process it shows down.
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "support/run_command.h"
#include "support/temp_dir.h"
#include "support/text.h"

namespace offmon {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = OFFMON_SOURCE_DIR;
const fs::path kPm2 = kRoot / ".deps/npm/node_modules/.bin/pm2";
const fs::path kSandbox = kRoot / "tools/sandbox/pm2.sh";

using testing::Has;

class Pm2CheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kPm2)) << "pm2 is not installed at " << kPm2 << ": run tools/install_node_deps.sh";
    auto started = testing::RunCommand({kSandbox.string(), "start", dir_.path().string(), "--watch-pid",
                                        std::to_string(getpid()), "up=steady.js", "down=steady.js"});
    started_ = true;
    ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
    auto stopped = testing::RunCommand({kSandbox.string(), "pm2", dir_.path().string(), "stop", "down"});
    ASSERT_EQ(stopped.exit_code, 0) << stopped.out << stopped.err;
    testing::WriteFileBytes(dir_ / "offmon.toml", "[system]\ndisk_mounts = []\n[pm2]\nbinary = \"" + kPm2.string() +
                                                      "\"\nhome = \"" + (dir_ / "pm2home").string() +
                                                      "\"\ntimeout = \"30s\"\n[postgres]\nenabled = false\n"
                                                      "[log]\nfile = \"\"\n");
  }
  void TearDown() override {
    if (started_) testing::RunCommand({kSandbox.string(), "stop", dir_.path().string()});
  }
  testing::CommandResult Check(std::vector<std::string> args = {}) {
    args.insert(args.begin(), {OFFMON_BINARY, "--config", (dir_ / "offmon.toml").string(), "--store",
                               (dir_ / "offmon.db").string(), "check", "--color", "never"});
    return testing::RunCommand(args);
  }

  testing::TempDir dir_;
  bool started_ = false;
};

TEST_F(Pm2CheckTest, StoppedWorkerIsASoftWarningOnTheFirstRunAndTheNext) {
  for (int run = 1; run <= 2; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    auto result = Check();
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    EXPECT_TRUE(Has(result.out, "Status: WARNING (pending")) << result.out;
    EXPECT_FALSE(Has(result.out, "Status: OK")) << result.out;
    EXPECT_TRUE(Has(result.out, "WARNING ProcessOffline{process=\"down\"}  (pending)")) << result.out;
    EXPECT_TRUE(Has(result.out, "offmon check: WARNING (soft): ProcessOffline{process=\"down\"} (pending)\n"))
        << result.out;
    EXPECT_FALSE(Has(result.out, "process=\"up\"")) << result.out;
  }
  auto json = Check({"--json"});
  EXPECT_EQ(json.exit_code, 1) << json.out << json.err;
  auto doc = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << json.out;
  EXPECT_EQ(doc["status"], "WARNING");
  EXPECT_EQ(doc["hard_status"], "OK");
}

}  // namespace
}  // namespace offmon
