// Replays fuzz inputs without libFuzzer: every file under the directories (or
// the files) named on the command line goes once through the target's
// LLVMFuzzerTestOneInput. Linked with each fuzz/*_fuzz.cc into a ctest entry
// (fuzz_replay_<name>) that runs fuzz/corpus/<name>/ in every build, so an
// input that once crashed a fuzzer stays a regression test: copy libFuzzer's
// crash-* artifact into fuzz/corpus/<name>/ when fixing the bug.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int RunFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", p.c_str());
    return 1;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  size_t files = 0;
  int bad = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(arg)) {
        if (!e.is_regular_file()) continue;
        bad |= RunFile(e.path());
        ++files;
      }
    } else {
      bad |= RunFile(arg);
      ++files;
    }
  }
  if (files == 0) {
    std::fprintf(stderr, "no inputs found\n");
    return 1;
  }
  std::printf("replayed %zu inputs\n", files);
  return bad;
}
