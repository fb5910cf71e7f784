// HTTP semantic conventions as pure functions (otelweb/http/attributes.h).
#include "otelweb/http/attributes.h"

namespace otelweb::http {

namespace {

constexpr std::string_view kKnownMethods[] = {"GET",     "HEAD",    "POST",  "PUT",   "DELETE",
                                              "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"};
constexpr std::string_view kOther = "_OTHER";

}  // namespace

std::string_view NormalizeMethod(std::string_view method) noexcept {
  for (std::string_view m : kKnownMethods) {
    if (m == method) return m;
  }
  return kOther;
}

bool IsKnownMethod(std::string_view method) noexcept { return NormalizeMethod(method) != kOther; }

StatusCode ServerStatusFor(int status_code) noexcept {
  if (status_code < 100 || status_code >= 500) return StatusCode::kError;
  return StatusCode::kUnset;
}

StatusCode ClientStatusFor(int status_code) noexcept {
  if (status_code < 100 || status_code >= 400) return StatusCode::kError;
  return StatusCode::kUnset;
}

}  // namespace otelweb::http
