// otelweb-view: see traces in the browser with no collector (docs/view.md).
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::puts("usage: otelweb-view [options] (see docs/view.md)");
    return 0;
  }
  std::fprintf(stderr, "otelweb-view: not implemented yet in this build (see docs/view.md)\n");
  return 1;
}
