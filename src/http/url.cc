// Host parsing, URL redaction and excluded URLs (otelweb/http/url.h).
#include <string>

#include "core/config.h"
#include "http/pattern.h"
#include "otelweb/diagnostics.h"
#include "otelweb/http/url.h"

namespace otelweb::http {

namespace {

// Query parameters whose values are always redacted, in folded form (see
// FoldParamName): the semantic conventions' four (AWSAccessKeyId, Signature,
// sig, X-Goog-Signature) and the credential names services commonly take in a
// query string (OAuth tokens, API keys, passwords, client secrets, AWS and
// Azure signing and session tokens). docs/security.md lists them.
constexpr std::string_view kDefaultSecretParams[] = {
    "awsaccesskeyid", "signature",  "sig",           "xgoogsignature", "xgoogcredential",
    "xamzsecuritytoken", "xamzsignature", "xamzcredential", "token",   "accesstoken",
    "refreshtoken",   "idtoken",    "authtoken",     "sessiontoken",   "apikey",
    "xapikey",        "key",        "apisecret",     "secret",         "clientsecret",
    "password",       "passwd",     "pwd",           "jwt",            "sessionid",
    "jsessionid",     "auth",       "authorization", "credential",     "credentials",
    "privatekey"};
constexpr std::string_view kRedacted = "REDACTED";

}  // namespace

bool ParseHostPort(std::string_view hp, std::string_view* host, int* port) noexcept {
  hp = config::Trim(hp);
  if (hp.empty()) return false;
  std::string_view h;
  std::string_view p;
  if (hp.front() == '[') {
    size_t close = hp.find(']');
    if (close == std::string_view::npos) return false;
    h = hp.substr(1, close - 1);
    std::string_view rest = hp.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      p = rest.substr(1);
    }
  } else {
    size_t colon = hp.rfind(':');
    if (colon != std::string_view::npos && hp.find(':') != colon) return false;  // bare v6
    h = hp.substr(0, colon);
    if (colon != std::string_view::npos) p = hp.substr(colon + 1);
  }
  if (h.empty()) return false;
  int n = 0;
  if (!p.empty()) {
    if (p.size() > 5) return false;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + (c - '0');
    }
    if (n > 65535) return false;
  }
  *host = h;
  *port = n;
  return true;
}

namespace {

int DefaultPort(std::string_view scheme) noexcept {
  if (scheme == "http" || scheme == "HTTP" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "HTTPS" || scheme == "wss") return 443;
  return 0;
}

}  // namespace

namespace {

// "[user@]host[:port][/...]" after the scheme.
bool SplitAuthority(std::string_view sch, std::string_view rest, std::string_view* scheme,
                    std::string_view* host, int* port) noexcept {
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority = authority.substr(at + 1);
  std::string_view h;
  int p = 0;
  if (!ParseHostPort(authority, &h, &p)) return false;
  if (p == 0) p = DefaultPort(sch);
  *scheme = sch;
  *host = h;
  *port = p;
  return true;
}

}  // namespace

bool SplitSchemeHostPort(std::string_view text, std::string_view default_scheme,
                         std::string_view* scheme, std::string_view* host, int* port) noexcept {
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return SplitAuthority(default_scheme, text, scheme, host, port);
  if (sep == 0) return false;
  return SplitAuthority(text.substr(0, sep), text.substr(sep + 3), scheme, host, port);
}

void SplitRequestTarget(std::string_view target, std::string_view* path,
                        std::string_view* query) noexcept {
  size_t hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  size_t q = target.find('?');
  if (q == std::string_view::npos) {
    *path = target;
    *query = {};
  } else {
    *path = target.substr(0, q);
    *query = target.substr(q + 1);
  }
}

bool ParseUrlAuthority(std::string_view url, std::string_view* scheme, std::string_view* host,
                       int* port) noexcept {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  return SplitAuthority(url.substr(0, sep), url.substr(sep + 3), scheme, host, port);
}

// ---------------------------------------------------------------------------
// Redaction

bool RemoveUrlCredentials(std::string_view url, std::string* out) {
  size_t scheme_end = url.find("://");
  bool has_scheme = scheme_end != std::string_view::npos && scheme_end != 0;
  for (size_t i = 0; has_scheme && i < scheme_end; ++i) {
    char c = url[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    if (!ok) has_scheme = false;
  }
  // Without a scheme (libcurl accepts "user:pw@host/path"), the authority
  // starts the string, unless it is a bare path.
  if (!has_scheme && (url.empty() || url[0] == '/')) return false;
  size_t auth_begin = has_scheme ? scheme_end + 3 : 0;
  size_t auth_end = url.find_first_of("/?#", auth_begin);
  if (auth_end == std::string_view::npos) auth_end = url.size();
  std::string_view authority = url.substr(auth_begin, auth_end - auth_begin);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return false;
  std::string r;
  r.reserve(url.size() + 20);
  r.append(url.substr(0, auth_begin));
  r.append("REDACTED:REDACTED@");
  r.append(url.substr(auth_begin + at + 1));
  *out = std::move(r);
  return true;
}

namespace {

int HexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Form-decodes a query parameter name as Python's parse_qs does ('+' is a
// space, "%XY" a byte, a malformed '%' stays). Returns false when the result
// does not fit `buf`.
bool DecodeParamName(std::string_view in, char* buf, size_t cap, size_t* len) noexcept {
  size_t n = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%' && i + 2 < in.size()) {
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        c = static_cast<char>(hi * 16 + lo);
        i += 2;
      }
    }
    if (n == cap) return false;
    buf[n++] = c;
  }
  *len = n;
  return true;
}

}  // namespace

namespace {

// The form in which parameter names are compared: ASCII letters lower-cased,
// '-' and '_' removed ("X-Amz-Security-Token", "x_amz_security_token" and
// "XAmzSecurityToken" are all "xamzsecuritytoken"). Returns false when the
// result does not fit `cap` bytes.
bool FoldParamName(std::string_view in, char* buf, size_t cap, size_t* len) noexcept {
  size_t n = 0;
  for (char c : in) {
    if (c == '-' || c == '_') continue;
    if (n == cap) return false;
    buf[n++] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  *len = n;
  return true;
}

}  // namespace

UrlRedactor::UrlRedactor(std::vector<std::string> extra_params) {
  for (const std::string& p : extra_params) {
    char buf[256];
    size_t len = 0;
    if (!p.empty() && FoldParamName(p, buf, sizeof(buf), &len) && len != 0) extra_.emplace_back(buf, len);
  }
}

bool UrlRedactor::IsSecretParam(std::string_view name) const noexcept {
  // Names are compared after form-decoding ("Sig%6Eature" is "Signature") and
  // folding (case, '-' and '_').
  char decoded[256];
  if (name.find_first_of("%+") != std::string_view::npos) {
    size_t len = 0;
    if (!DecodeParamName(name, decoded, sizeof(decoded), &len)) return false;
    name = std::string_view(decoded, len);
  }
  char buf[256];
  size_t len = 0;
  if (!FoldParamName(name, buf, sizeof(buf), &len)) return false;
  const std::string_view folded(buf, len);
  for (std::string_view p : kDefaultSecretParams) {
    if (p == folded) return true;
  }
  for (const std::string& p : extra_) {
    if (p == folded) return true;
  }
  return false;
}

bool UrlRedactor::RedactQuery(std::string_view query, std::string* out) const {
  // First pass: anything to do? (no allocation in the common case)
  bool any = false;
  for (size_t pos = 0; pos <= query.size();) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view item = query.substr(pos, amp - pos);
    size_t eq = item.find('=');
    if (eq != std::string_view::npos && IsSecretParam(item.substr(0, eq)) &&
        item.substr(eq + 1) != kRedacted) {
      any = true;
      break;
    }
    pos = amp + 1;
  }
  if (!any) return false;
  std::string r;
  r.reserve(query.size());
  for (size_t pos = 0; pos <= query.size();) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view item = query.substr(pos, amp - pos);
    size_t eq = item.find('=');
    if (pos != 0) r.push_back('&');
    if (eq != std::string_view::npos && IsSecretParam(item.substr(0, eq))) {
      r.append(item.substr(0, eq + 1));
      r.append(kRedacted);
    } else {
      r.append(item);
    }
    pos = amp + 1;
  }
  *out = std::move(r);
  return true;
}

bool UrlRedactor::RedactUrl(std::string_view url, std::string* out) const {
  std::string creds;
  bool changed = RemoveUrlCredentials(url, &creds);
  std::string_view u = changed ? std::string_view(creds) : url;
  size_t q = u.find('?');
  if (q != std::string_view::npos) {
    size_t hash = u.find('#', q);
    std::string_view query = u.substr(q + 1, hash == std::string_view::npos ? std::string_view::npos
                                                                             : hash - q - 1);
    std::string rq;
    if (RedactQuery(query, &rq)) {
      std::string r;
      r.reserve(u.size() + 16);
      r.append(u.substr(0, q + 1));
      r.append(rq);
      if (hash != std::string_view::npos) r.append(u.substr(hash));
      *out = std::move(r);
      return true;
    }
  }
  if (changed) *out = std::move(creds);
  return changed;
}

std::string UrlRedactor::Redact(std::string_view url) const {
  std::string out;
  if (RedactUrl(url, &out)) return out;
  return std::string(url);
}

// ---------------------------------------------------------------------------
// Excluded URLs

UrlExcluder::UrlExcluder(std::string_view list) {
  std::string joined;
  for (const std::string& item : config::SplitList(list)) {
    std::string error = internal::PatternError(item, /*case_insensitive=*/false);
    if (!error.empty()) {
      internal::WarnRejectedPattern(
          "excluded URL pattern (excluded_urls, OTEL_CPP_<FRAMEWORK>_EXCLUDED_URLS or "
          "OTEL_CPP_EXCLUDED_URLS)",
          item, error);
      continue;
    }
    if (!joined.empty()) joined.push_back('|');
    joined.append("(?:").append(item).append(")");
  }
  if (joined.empty()) return;
  regex_ = internal::CompileJoined(joined, /*case_insensitive=*/false);
  if (regex_) source_ = std::move(joined);
}

UrlExcluder UrlExcluder::FromConfig(const std::optional<std::string>& code,
                                    std::string_view framework) {
  if (code.has_value()) return UrlExcluder(*code);
  if (!framework.empty()) {
    std::string name = "OTEL_CPP_";
    for (char c : framework) name.push_back(c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c);
    name += "_EXCLUDED_URLS";
    if (auto v = config::GetString(name.c_str())) return UrlExcluder(*v);
  }
  if (auto v = config::GetString("OTEL_CPP_EXCLUDED_URLS")) return UrlExcluder(*v);
  return UrlExcluder();
}

bool UrlExcluder::Matches(std::string_view url) const noexcept {
  if (!regex_) return false;
  // RE2 matches in time linear in the URL's length and constant stack, so the
  // whole URL is searched, whatever its length.
  return regex_->PartialMatch(url);
}

}  // namespace otelweb::http
