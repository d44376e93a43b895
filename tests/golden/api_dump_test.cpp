// The live API (datamodel + errors) against the reviewed dump in api-dump.txt.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "classes/datamodel/api_dump.h"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Golden, ApiDumpMatchesTheReviewedCopy) {
  const std::string path = std::string(XENAPI_GOLDEN_DIR) + "/api-dump.txt";
  const std::string live = xenapi::dm::api_dump(*xenapi::dm::Datamodel::standard());
  if (std::getenv("XENAPI_REGENERATE_GOLDEN")) {
    std::ofstream(path) << live;
    GTEST_SKIP() << "regenerated " << path;
  }
  const std::string golden = read_file(path);
  ASSERT_FALSE(golden.empty()) << path << " is missing; run with XENAPI_REGENERATE_GOLDEN=1";
  if (live == golden) return;
  // Report the first differing lines, not two 2000-line strings.
  std::istringstream a(golden), b(live);
  std::string la, lb;
  int line = 0, shown = 0;
  while (shown < 10) {
    bool ga = static_cast<bool>(std::getline(a, la)), gb = static_cast<bool>(std::getline(b, lb));
    ++line;
    if (!ga && !gb) break;
    if (la != lb || ga != gb) {
      ADD_FAILURE() << "line " << line << "\n  golden: " << (ga ? la : "<end>") << "\n  live:   " << (gb ? lb : "<end>");
      ++shown;
    }
  }
}

}  // namespace
