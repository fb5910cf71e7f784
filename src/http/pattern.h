// The compiled regular expression behind UrlExcluder and HeaderCapture
// (private: <regex> stays out of the public headers, which only name
// http::internal::CompiledPattern).
// Ownership: shared, immutable after construction. Thread-safety: matching
// through a const std::regex is safe from any number of threads.
#pragma once

#include <regex>

namespace otelweb::http::internal {

struct CompiledPattern {
  std::regex re;
};

}  // namespace otelweb::http::internal
