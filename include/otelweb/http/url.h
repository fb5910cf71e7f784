// URLs for HTTP instrumentations (library otelweb_http): authority parsing,
// redaction of credentials and secret query values (url.full, url.query), and
// the excluded-URL filter (OTEL_CPP_[<FRAMEWORK>_]EXCLUDED_URLS).
// Ownership: UrlRedactor and UrlExcluder own their settings. Thread-safety:
// both are immutable after construction and safe to share between threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otelweb::http {

namespace internal {
struct CompiledPattern;  // a compiled RE2 pattern (src/http/pattern.h)
}  // namespace internal

// Splits "host", "host:port", "[v6]" or "[v6]:port". *port is 0 when absent.
// Returns false (outputs untouched) for an empty or malformed value.
bool ParseHostPort(std::string_view hostport, std::string_view* host, int* port) noexcept;

// The one "[scheme://][user@]host[:port][/...]" splitter every HTTP
// instrumentation uses: the scheme is `default_scheme` when absent; the port
// comes from the scheme when absent (80 for http/ws, 443 for https/wss, else
// 0); user-info and anything from the first '/', '?' or '#' are skipped.
// Returns false (outputs untouched) when no valid host[:port] is found. The
// views point into `text` (or `default_scheme`).
bool SplitSchemeHostPort(std::string_view text, std::string_view default_scheme,
                         std::string_view* scheme, std::string_view* host, int* port) noexcept;

// Splits a request-target "/p?q#f" into path "/p" and query "q" (the fragment
// is dropped; no '?': an empty query).
void SplitRequestTarget(std::string_view target, std::string_view* path,
                        std::string_view* query) noexcept;

// Splits an absolute URL into scheme, host and port (port from the scheme when
// absent: 80 for http/ws, 443 for https/wss, else 0). Returns false for a URL
// without "scheme://host".
bool ParseUrlAuthority(std::string_view url, std::string_view* scheme, std::string_view* host,
                       int* port) noexcept;

// Replaces the user-info of an absolute URL ("scheme://user:pw@host/...") with
// "REDACTED:REDACTED". Returns false (out untouched) when there is none.
bool RemoveUrlCredentials(std::string_view url, std::string* out);

// Extra secret query parameter names for every HTTP instrumentation,
// comma-separated, added to the defaults and to Settings::secret_query_params.
inline constexpr const char* kEnvSecretQueryParams = "OTEL_CPP_HTTP_SECRET_QUERY_PARAMS";

// Redacts credentials and the values of secret query parameters: the
// semantic conventions' AWSAccessKeyId, Signature, sig and X-Goog-Signature,
// the credential names listed in docs/security.md (token, access_token,
// api_key, password, client_secret, X-Amz-Security-Token, ...), plus extra
// names. A parameter's name is form-decoded first, as Python's parse_qs does
// ('+' is a space, "%XY" a byte: "Sig%6Eature" is "Signature"), then compared
// ignoring ASCII case, '-' and '_' ("API-Key" matches "api_key"; broader than
// opentelemetry-util-http's exact comparison, on purpose); names longer than
// 256 bytes never match. Other parameters are kept byte for byte.
class UrlRedactor {
 public:

  UrlRedactor() = default;
  explicit UrlRedactor(std::vector<std::string> extra_params);
  bool IsSecretParam(std::string_view name) const noexcept;
  // A query string without the '?'. Returns false (out untouched) when nothing
  // needed redacting, so callers keep using the original without a copy.
  bool RedactQuery(std::string_view query, std::string* out) const;
  // A full URL or a request target ("/p?q"): credentials and query.
  bool RedactUrl(std::string_view url, std::string* out) const;
  // Convenience: the redacted copy (or the input).
  std::string Redact(std::string_view url) const;

 private:
  std::vector<std::string> extra_;
};

// Excluded URLs.

// Comma-separated regexes, each searched (unanchored, case-sensitive) in the
// string given to Matches, in RE2 syntax: Perl/ECMAScript-like, without
// backreferences or lookaround, and matched in time linear in the input
// whatever the pattern (docs/httplib.md, "Pattern syntax"). The whole input is
// searched, whatever its length. Empty entries are ignored (a trailing comma
// excludes nothing); a pattern RE2 rejects is one warning naming the setting
// and is skipped. Compiled once.
class UrlExcluder {
 public:
  UrlExcluder() = default;
  explicit UrlExcluder(std::string_view comma_separated_regexes);
  // The list from code when given, else OTEL_CPP_<FRAMEWORK>_EXCLUDED_URLS,
  // else OTEL_CPP_EXCLUDED_URLS (each used when set and not blank).
  static UrlExcluder FromConfig(const std::optional<std::string>& code, std::string_view framework);
  bool empty() const noexcept { return !regex_; }
  bool Matches(std::string_view url) const noexcept;
  const std::string& source() const noexcept { return source_; }

 private:
  std::shared_ptr<const internal::CompiledPattern> regex_;
  std::string source_;  // the valid entries joined with '|'
};

}  // namespace otelweb::http
