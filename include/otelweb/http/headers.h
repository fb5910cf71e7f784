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
struct CompiledPattern;  // a compiled RE2 pattern (src/http/pattern.h)
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

// Bounds a client cannot raise (docs/configuration.md, "HTTP header
// bounds"): they keep the cost and size of what one request's headers turn
// into linear in the request and bounded, whatever the client sends.
struct HeaderLimits {
  // HeaderReader::Get joins repeated lines of a header (tracestate, baggage,
  // user-agent, ...) while the joined value stays within this many bytes; the
  // lines beyond are left out (the first line is always kept whole).
  size_t max_joined_bytes = 8192;
  // Header capture, per request and per response: at most this many header
  // lines (array elements over all captured names) ...
  size_t max_captured_headers = 64;
  // ... and this many bytes of names and values; a line that does not fit is
  // left out.
  size_t max_captured_bytes = 8192;
  // Captured headers may fill a span's attribute count limit: the
  // semantic-convention attributes set after capture (http.route,
  // http.response.status_code, error.type, ...) then displace the most recent
  // captured or user attribute (instrumentation::SetInstrumentationAttribute).

  // The defaults, overridden by OTEL_CPP_HTTP_MAX_JOINED_HEADER_BYTES,
  // OTEL_CPP_HTTP_CAPTURE_MAX_HEADERS and OTEL_CPP_HTTP_CAPTURE_MAX_BYTES
  // (an invalid value is a warning and the default is kept).
  static HeaderLimits FromEnvironment();
};

// The process-wide limits, read from the environment at the first call
// (max_joined_bytes bounds every HeaderReader::Get).
const HeaderLimits& ProcessHeaderLimits() noexcept;

// Joins a repeated header's next line into `joined` (',' first when not
// empty), unless that would make it longer than `max_bytes`: the join every
// HeaderReader::Get implementation uses. Returns false when the line was left
// out.
bool AppendJoinedHeader(std::string& joined, std::string_view line, size_t max_bytes);

// Case-insensitive ASCII comparison of header names.
bool HeaderNameEquals(std::string_view a, std::string_view b) noexcept;

// True when `value` holds a control character (CR, LF, NUL, any other byte
// below 0x20 except HTAB, or DEL): no field value sent as RFC 9110 allows
// (section 5.5) has one. HeaderCapture drops such values, whatever the adapter.
bool HasControlCharacter(std::string_view value) noexcept;

// A carrier over headers whose values the web framework percent-decoded
// before instrumentation sees them (cpp-httplib 0.11 decodes every header
// value it parses: "%2C" arrives as ',', "%0D%0A" as CR LF). What was sent
// cannot be recovered from a decoded value in general, so Get gives the
// propagators only what decoding cannot have altered unnoticed, and refuses
// the rest (docs/propagation.md, "Header values a framework decoded"):
//   traceparent  refused when it shows decoding: leading or trailing
//                whitespace (the framework trims the whitespace that was
//                sent), '%', or a byte outside 0x21-0x7E.
//   tracestate   rebuilt from the members that are valid as they stand and
//                hold no '%'; a list member that is not key=value with a
//                valid key is a fragment made by a decoded ',': it is
//                dropped together with the member just before it, which the
//                decoded comma cut short.
//   baggage      the framework already did the propagator's percent-decoding:
//                each value is taken as decoded and encoded again for the
//                propagator, so "a%20b" (sent) reaches it as "a b", as it
//                would from the raw header. Refused: members with properties
//                (a decoded ';' cannot be told from a real one), members with
//                whitespace next to the value (OWS or a decoded space?), and
//                fragments of a decoded ',' with the member before them.
//   other keys   refused when they hold a control character.
// Residual limitation: an escape that decodes to a character that is allowed
// where it stands cannot be detected ("k=a%41" sent arrives as "k=aA"; a
// percent-encoded traceparent is read as the plain one).
// ForEach passes the decoded lines through (header capture drops the values
// with control characters itself).
// Ownership: borrows `decoded` for its own lifetime. Thread-safety: as the
// reader it wraps (one request, one thread).
class PercentDecodedHeaderReader final : public HeaderReader {
 public:
  explicit PercentDecodedHeaderReader(const HeaderReader& decoded) noexcept : decoded_(decoded) {}
  std::string_view Get(std::string_view key, std::string& scratch) const noexcept override;
  void ForEach(Visitor visit, void* ctx) const noexcept override {
    decoded_.ForEach(visit, ctx);
  }

 private:
  const HeaderReader& decoded_;
};

// The rules of PercentDecodedHeaderReader as pure functions over one decoded
// (joined) header value, for tests and adapters with carriers of their own.
bool DecodedTraceparentUsable(std::string_view decoded) noexcept;
std::string TracestateFromDecoded(std::string_view decoded);
std::string BaggageFromDecoded(std::string_view decoded);

// Captures headers into span attributes `<prefix><lowercase name>` as string
// arrays holding every value (one element per header line; a value with a
// control character, see HasControlCharacter, is left out), within the
// HeaderLimits: linear in the number of headers. Names are matched
// with case-insensitive full-match regexes; plain names (letters, digits, '-',
// '_') are compared without a regex. Values of Authorization,
// Proxy-Authorization, Cookie, Set-Cookie, of credential-looking names (those
// containing auth, cookie, credential, jwt, key, passw, secret, session,
// signature or token, ignoring case: X-Api-Key, X-Auth-Token, X-Session-Id;
// docs/security.md) and of names matching a sanitize pattern
// (case-insensitive search) become "[REDACTED]". Patterns are RE2 syntax
// (no backreferences or lookaround; matching is linear in the name's length,
// docs/httplib.md, "Pattern syntax"); a pattern RE2 rejects is one warning
// naming the setting and is skipped.
class HeaderCapture {
 public:
  HeaderCapture() = default;
  // `limits`: the capture bounds (default: HeaderLimits::FromEnvironment()
  // at construction).
  HeaderCapture(const std::vector<std::string>& patterns, const std::vector<std::string>& sanitize,
                std::string_view attribute_prefix,
                std::optional<HeaderLimits> limits = std::nullopt);
  // True when nothing is to be captured (the common case: zero cost).
  bool empty() const noexcept { return literals_.empty() && !regex_; }
  bool Matches(std::string_view name) const noexcept;
  bool IsSensitive(std::string_view name) const noexcept;
  // Writes the attributes of every matching header to span (if recording).
  void Capture(const HeaderReader& headers, SpanRef span) const noexcept;

 private:
  std::string prefix_;
  HeaderLimits limits_;
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
