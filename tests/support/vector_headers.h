// A HeaderReader over a vector of (name, value) pairs, for tests of the HTTP
// layer. Ownership: owns its copy of the pairs. Thread-safety: immutable.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "otelweb/http/server.h"

#include "otelweb/http/client.h"

namespace otelweb::testing {

class VectorHeaders final : public http::HeaderReader {
 public:
  explicit VectorHeaders(std::vector<std::pair<std::string, std::string>> h) : h_(std::move(h)) {}
  void ForEach(Visitor visit, void* ctx) const noexcept override {
    for (const auto& [k, v] : h_) {
      if (!visit(ctx, k, v)) return;
    }
  }

 private:
  std::vector<std::pair<std::string, std::string>> h_;
};

}  // namespace otelweb::testing
