#include "offmon/common/host_name.h"

#include <unistd.h>

namespace offmon {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

}  // namespace offmon
