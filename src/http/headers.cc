// Header access, capture and sanitizing.
#include <algorithm>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/http_token.h"
#include "http/capture_setup.h"
#include "http/helper_headers.h"
#include "http/pattern.h"
#include "otelweb/diagnostics.h"
#include "otelweb/http/client.h"
#include "otelweb/http/server.h"
#include "otelweb/semconv.h"

namespace otelweb::http {

namespace {

inline char Lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

std::string ToLower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = Lower(c);
  return r;
}

bool IsLiteralName(std::string_view p) noexcept {
  if (p.empty()) return false;
  for (char c : p) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool ContainsIgnoreCase(std::string_view hay, std::string_view lower_needle) noexcept {
  if (lower_needle.size() > hay.size()) return false;
  for (size_t i = 0; i + lower_needle.size() <= hay.size(); ++i) {
    size_t j = 0;
    while (j < lower_needle.size() && Lower(hay[i + j]) == lower_needle[j]) ++j;
    if (j == lower_needle.size()) return true;
  }
  return false;
}

// Compiles the valid patterns of a list into one case-insensitive regex;
// plain names go to `literals` (lowercased) instead.
void CompilePatterns(const std::vector<std::string>& patterns, const char* what,
                     std::vector<std::string>* literals,
                     std::shared_ptr<const internal::CompiledPattern>* regex) {
  std::string joined;
  for (const std::string& raw : patterns) {
    std::string_view p = config::Trim(raw);
    if (p.empty()) continue;
    if (IsLiteralName(p)) {
      literals->push_back(ToLower(p));
      continue;
    }
    std::string error = internal::PatternError(p, /*case_insensitive=*/true);
    if (!error.empty()) {
      internal::WarnRejectedPattern(what, p, error);
      continue;
    }
    if (!joined.empty()) joined.push_back('|');
    joined.append("(?:").append(p).append(")");
  }
  if (joined.empty()) return;
  *regex = internal::CompileJoined(joined, /*case_insensitive=*/true);
}

constexpr std::string_view kAlwaysSensitive[] = {"authorization", "proxy-authorization", "cookie",
                                                 "set-cookie"};

// A captured header whose name contains one of these (ignoring case) is
// credential-looking and its values are always redacted, whatever the
// sanitize settings say (issue 12: "X-Api-Key" left in clear by a ".*"
// capture). Listed in docs/security.md.
constexpr std::string_view kCredentialNameParts[] = {"auth",   "cookie", "credential", "jwt",
                                                     "key",    "passw",  "secret",     "session",
                                                     "signature", "token"};

}  // namespace

bool HeaderNameEquals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

HeaderLimits HeaderLimits::FromEnvironment() {
  HeaderLimits l;
  constexpr int64_t kMax = int64_t{1} << 30;
  if (auto v = config::GetInt("OTEL_CPP_HTTP_MAX_JOINED_HEADER_BYTES", 1, kMax)) {
    l.max_joined_bytes = static_cast<size_t>(*v);
  }
  if (auto v = config::GetInt("OTEL_CPP_HTTP_CAPTURE_MAX_HEADERS", 0, kMax)) {
    l.max_captured_headers = static_cast<size_t>(*v);
  }
  if (auto v = config::GetInt("OTEL_CPP_HTTP_CAPTURE_MAX_BYTES", 0, kMax)) {
    l.max_captured_bytes = static_cast<size_t>(*v);
  }
  return l;
}

const HeaderLimits& ProcessHeaderLimits() noexcept {
  static const HeaderLimits limits = [] {
    try {
      return HeaderLimits::FromEnvironment();
    } catch (...) {
      return HeaderLimits{};
    }
  }();
  return limits;
}

bool AppendJoinedHeader(std::string& joined, std::string_view line, size_t max_bytes) {
  size_t extra = line.size() + (joined.empty() ? 0 : 1);
  if (joined.size() + extra > max_bytes) return false;
  if (!joined.empty()) joined.push_back(',');
  joined.append(line);
  return true;
}

std::string_view HeaderReader::Get(std::string_view key, std::string& scratch) const noexcept {
  struct Ctx {
    std::string_view key;
    std::string_view first;
    std::string* scratch;
    size_t max_bytes;
    int count = 0;
  } ctx{key, {}, &scratch, ProcessHeaderLimits().max_joined_bytes};
  ForEach(
      [](void* p, std::string_view name, std::string_view value) {
        auto* c = static_cast<Ctx*>(p);
        // Most names differ in length: that test, inline, skips them.
        if (name.size() != c->key.size() || !HeaderNameEquals(name, c->key)) return true;
        try {
          if (c->count == 0) {
            c->first = value;
          } else {
            if (c->count == 1) c->scratch->assign(c->first);
            // Bounded: the lines beyond max_joined_bytes are left out, and
            // the scan stops there.
            if (!AppendJoinedHeader(*c->scratch, value, c->max_bytes)) return false;
          }
        } catch (...) {
          return false;
        }
        ++c->count;
        return true;
      },
      &ctx);
  if (ctx.count <= 1) return ctx.first;
  return scratch;
}

std::vector<std::string> PatternsFromConfig(const std::optional<std::vector<std::string>>& code,
                                            const char* env_var) {
  if (code.has_value()) return *code;
  if (env_var == nullptr) return {};
  if (auto v = config::GetString(env_var)) return config::SplitList(*v);
  return {};
}

HeaderCapture::HeaderCapture(const std::vector<std::string>& patterns,
                             const std::vector<std::string>& sanitize,
                             std::string_view attribute_prefix, std::optional<HeaderLimits> limits)
    : prefix_(attribute_prefix) {
  limits_ = limits ? *limits : HeaderLimits::FromEnvironment();
  CompilePatterns(patterns,
                  "header capture pattern (capture_request_headers / capture_response_headers, "
                  "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*)",
                  &literals_, &regex_);
  CompilePatterns(sanitize,
                  "header sanitize pattern (sanitize_fields, "
                  "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS)",
                  &sanitize_literals_, &sanitize_regex_);
}

bool HeaderCapture::Matches(std::string_view name) const noexcept {
  for (const std::string& l : literals_) {
    if (HeaderNameEquals(name, l)) return true;
  }
  if (!regex_) return false;
  // RE2: linear in the name's length, whatever the pattern.
  return regex_->FullMatch(name);
}

bool HeaderCapture::IsSensitive(std::string_view name) const noexcept {
  for (std::string_view s : kAlwaysSensitive) {
    if (HeaderNameEquals(name, s)) return true;
  }
  for (std::string_view part : kCredentialNameParts) {
    if (ContainsIgnoreCase(name, part)) return true;
  }
  for (const std::string& l : sanitize_literals_) {
    if (ContainsIgnoreCase(name, l)) return true;
  }
  if (!sanitize_regex_) return false;
  return sanitize_regex_->PartialMatch(name);
}

void HeaderCapture::Capture(const HeaderReader& headers, SpanRef span) const noexcept {
  if (empty() || !span.IsRecording()) return;
  try {
    // Gather the matching lines within the limits (one pass, stopping at the
    // line cap: linear in the number of headers), group them by name with a
    // sort (n log n over at most max_captured_headers lines), then one
    // attribute per distinct name.
    struct Line {
      std::string_view name, value;
    };
    thread_local std::vector<Line> lines;
    thread_local std::vector<std::string_view> values;
    thread_local std::string key;
    lines.clear();
    struct Ctx {
      const HeaderCapture* self;
      std::vector<Line>* lines;
      size_t bytes = 0;
    } ctx{this, &lines};
    headers.ForEach(
        [](void* p, std::string_view name, std::string_view value) {
          auto* c = static_cast<Ctx*>(p);
          const HeaderLimits& l = c->self->limits_;
          if (c->lines->size() >= l.max_captured_headers) return false;
          // A value with CR, LF, NUL or another control character was not
          // sent as HTTP allows (or was decoded by the framework): left out.
          if (!c->self->Matches(name) || HasControlCharacter(value)) return true;
          size_t cost = name.size() + value.size();
          if (c->bytes + cost > l.max_captured_bytes) return true;  // does not fit
          c->bytes += cost;
          c->lines->push_back({name, value});
          return true;
        },
        &ctx);
    auto less = [](const Line& a, const Line& b) {
      size_t n = std::min(a.name.size(), b.name.size());
      for (size_t i = 0; i < n; ++i) {
        char x = Lower(a.name[i]), y = Lower(b.name[i]);
        if (x != y) return x < y;
      }
      return a.name.size() < b.name.size();
    };
    std::stable_sort(lines.begin(), lines.end(), less);
    for (size_t i = 0; i < lines.size();) {
      std::string_view name = lines[i].name;
      bool sensitive = IsSensitive(name);
      values.clear();
      size_t j = i;
      for (; j < lines.size() && HeaderNameEquals(lines[j].name, name); ++j) {
        values.push_back(sensitive ? std::string_view("[REDACTED]") : lines[j].value);
      }
      key.assign(prefix_);
      for (char c : name) key.push_back(Lower(c));
      span.SetAttribute(key, AttributeValue(std::span<const std::string_view>(values)));
      i = j;
    }
    lines.clear();
  } catch (...) {
    // Out of memory while capturing: the headers are simply not recorded.
  }
}

namespace internal {

void SetUpHeaderCapture(const Settings& settings, const char* request_env, const char* response_env,
                        HeaderCapture* request, HeaderCapture* response) {
  std::vector<std::string> sanitize =
      PatternsFromConfig(settings.sanitize_fields, kEnvCaptureSanitize);
  *request = HeaderCapture(PatternsFromConfig(settings.capture_request_headers, request_env),
                           sanitize, semconv::kHttpRequestHeaderPrefix);
  *response = HeaderCapture(PatternsFromConfig(settings.capture_response_headers, response_env),
                            sanitize, semconv::kHttpResponseHeaderPrefix);
}

bool HelperResponseHeaderAllowed(const char* name, const char* value) noexcept {
  // A field name is a token: a space or a tab (which lenient parsers trim:
  // "Transfer-Encoding : chunked"), ':', CR, LF or another byte would make the
  // header another one, or the response malformed.
  if (name == nullptr || value == nullptr || !otelweb::internal::IsToken(name)) return false;
  if (HeaderNameEquals(name, "Content-Length") || HeaderNameEquals(name, "Transfer-Encoding"))
    return false;
  return std::string_view(value).find_first_of("\r\n") == std::string_view::npos;
}

bool HelperResponseAllowed(const char* helper, const char* not_done, const char* framed_by, long status_code,
                           std::initializer_list<std::pair<const char*, const char*>> headers,
                           HelperRefusalWarnings& warned) noexcept {
  auto refuse = [&](std::atomic<bool>& flag, const char* what, const char* todo) noexcept {
    if (flag.load(std::memory_order_relaxed)) return false;
    try {
      LogOnce(flag, LogLevel::kWarning,
              std::string(helper) + ": " + what + " was refused and nothing was " + not_done + "; " + todo +
                  " (reported once)");
    } catch (...) {  // no memory for the message: the refusal stands
    }
    return false;
  };
  if (status_code < 200 || status_code > 999) {
    return refuse(warned.status, "a status outside 200-999",
                  "give a final status from 200 to 999 (a 1xx is interim: the client would wait for the "
                  "real response)");
  }
  for (const auto& [name, value] : headers) {
    if (!HelperResponseHeaderAllowed(name, value)) {
      std::string todo;
      try {
        todo = std::string("leave Content-Length and Transfer-Encoding out (") + framed_by +
               " sets them) and give names that are HTTP tokens (letters, digits and "
               "!#$%&'*+-.^_`|~; no space, tab or ':') and values without CR or LF";
      } catch (...) {  // no memory for the advice: the refusal stands
      }
      return refuse(warned.header, "a response header", todo.c_str());
    }
  }
  return true;
}

}  // namespace internal

}  // namespace otelweb::http
