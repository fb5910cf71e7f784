// Request and response headers for HTTP instrumentations (library
// otelweb_http): the HeaderReader an adapter implements over its framework's
// headers (it is also the propagation carrier), and HeaderCapture, which turns
// configured headers into http.request.header.* / http.response.header.*
// attributes with sensitive values redacted (semantic conventions, "HTTP
// spans"; OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_* variables).
// Ownership: HeaderCapture owns its compiled patterns. Thread-safety:
// HeaderCapture is immutable after construction and safe to share.
#pragma once

#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "otelweb/propagation.h"
#include "otelweb/trace/span.h"

namespace otelweb::http {

namespace internal {
struct CompiledPattern;  // a compiled std::regex (src/http/pattern.h)
}  // namespace internal

// Read access to a request's or response's headers. Derived from
// TextMapGetter so that the same object is the propagation carrier.
// Get (inherited): `key` is lowercase; implementations match names
// case-insensitively and join repeated headers with ',' (in `scratch`).
class HeaderReader : public TextMapGetter {
 public:
  // Return false to stop the iteration.
  using Visitor = bool (*)(void* ctx, std::string_view name, std::string_view value);
  // Calls visit(ctx, name, value) once per header line, in any order. Names are
  // as received (any case). Adapters leave out framework pseudo-headers.
  virtual void ForEach(Visitor visit, void* ctx) const noexcept = 0;
  // Default Get: a ForEach scan that joins every value of `key` with ','.
  std::string_view Get(std::string_view key, std::string& scratch) const noexcept override;
};

// Case-insensitive ASCII comparison of header names.
bool HeaderNameEquals(std::string_view a, std::string_view b) noexcept;

// Captures headers into span attributes `<prefix><lowercase name>` as string
// arrays holding every value (one element per header line). Names are matched
// with case-insensitive full-match regexes; plain names (letters, digits, '-',
// '_') are compared without a regex. Values of Authorization,
// Proxy-Authorization, Cookie, Set-Cookie, of credential-looking names (those
// containing auth, cookie, credential, jwt, key, passw, secret, session,
// signature or token, ignoring case: X-Api-Key, X-Auth-Token, X-Session-Id;
// docs/security.md) and of names matching a sanitize pattern
// (case-insensitive search) become "[REDACTED]". An invalid pattern is
// one warning and is skipped. Names longer than kMaxRegexNameBytes are not
// given to regexes (the matcher's stack use grows with the input): they are
// captured only through plain-name patterns, and count as sensitive when a
// sanitize regex exists.
class HeaderCapture {
 public:
  static constexpr size_t kMaxRegexNameBytes = 256;
  HeaderCapture() = default;
  HeaderCapture(const std::vector<std::string>& patterns, const std::vector<std::string>& sanitize,
                std::string_view attribute_prefix);
  // True when nothing is to be captured (the common case: zero cost).
  bool empty() const noexcept { return literals_.empty() && !regex_; }
  bool Matches(std::string_view name) const noexcept;
  bool IsSensitive(std::string_view name) const noexcept;
  // Writes the attributes of every matching header to span (if recording).
  void Capture(const HeaderReader& headers, SpanRef span) const noexcept;

 private:
  std::string prefix_;
  std::vector<std::string> literals_;           // lowercase names
  std::shared_ptr<const internal::CompiledPattern> regex_;  // non-literal capture patterns
  std::vector<std::string> sanitize_literals_;  // lowercase substrings
  std::shared_ptr<const internal::CompiledPattern> sanitize_regex_;
};

// The pattern list for a capture or sanitize setting: the code value when
// given, else the comma-separated environment variable, else empty.
std::vector<std::string> PatternsFromConfig(const std::optional<std::vector<std::string>>& code,
                                            const char* env_var);

// Environment variables of the header capture settings.
inline constexpr const char* kEnvCaptureServerRequest =
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST";
inline constexpr const char* kEnvCaptureServerResponse =
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE";
inline constexpr const char* kEnvCaptureClientRequest =
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST";
inline constexpr const char* kEnvCaptureClientResponse =
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE";
inline constexpr const char* kEnvCaptureSanitize =
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS";

}  // namespace otelweb::http
