// HTTP semantic conventions as pure functions (otelweb/http/attributes.h).
#include "otelweb/http/attributes.h"

#include <charconv>

#include "otelweb/http/client.h"
#include "otelweb/http/server.h"
#include "otelweb/http/url.h"
#include "otelweb/semconv.h"

namespace otelweb::http {

namespace {

constexpr std::string_view kKnownMethods[] = {"GET",     "HEAD",    "POST",  "PUT",   "DELETE",
                                              "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"};
constexpr std::string_view kOther = "_OTHER";

std::string_view StatusDigits(int status_code, ResponseScratch& scratch) noexcept {
  auto r = std::to_chars(scratch.status_digits, scratch.status_digits + sizeof(scratch.status_digits),
                         status_code);
  return std::string_view(scratch.status_digits, size_t(r.ptr - scratch.status_digits));
}

}  // namespace

std::string_view NormalizeMethod(std::string_view method) noexcept {
  for (std::string_view m : kKnownMethods) {
    if (m == method) return m;
  }
  return kOther;
}

bool IsKnownMethod(std::string_view method) noexcept { return NormalizeMethod(method) != kOther; }

std::string_view SpanNameMethod(std::string_view normalized) noexcept {
  return normalized == kOther ? std::string_view("HTTP") : normalized;
}

std::string_view ProtocolVersion(std::string_view v) noexcept {
  if (v.size() > 5 && (v[0] == 'H' || v[0] == 'h') &&
      (v.substr(1, 4) == "TTP/" || v.substr(1, 4) == "ttp/")) {
    return v.substr(5);
  }
  return v;
}

StatusCode ServerStatusFor(int status_code) noexcept {
  if (status_code < 100 || status_code >= 500) return StatusCode::kError;
  return StatusCode::kUnset;
}

StatusCode ClientStatusFor(int status_code) noexcept {
  if (status_code < 100 || status_code >= 400) return StatusCode::kError;
  return StatusCode::kUnset;
}

std::string_view ServerRequestAttributes(const ServerRequestView& req, const UrlRedactor& redactor,
                                         AttributeScratch& scratch,
                                         ServerRequestAttributeList& out) noexcept {
  namespace sc = semconv;
  const std::string_view method = NormalizeMethod(req.method);
  std::string_view path = req.path;
  std::string_view query = req.query;
  if (path.empty()) SplitRequestTarget(req.target, &path, &query);

  std::string_view host = req.host;
  std::string_view user_agent;
  if (req.headers != nullptr) {
    if (host.empty()) host = req.headers->Get("host", scratch.host);
    user_agent = req.headers->Get("user-agent", scratch.user_agent);
  }
  std::string_view server_address;
  int server_port = 0;
  if (ParseHostPort(host, &server_address, &server_port)) {
    if (server_port == 0) server_port = req.scheme == "https" ? 443 : 80;
  } else {
    server_address = {};
    server_port = req.local_port;
  }
  try {
    if (!query.empty() && redactor.RedactQuery(query, &scratch.redacted)) query = scratch.redacted;
  } catch (...) {
    query = {};  // cannot redact: leave it out rather than leak a secret
  }

  out.Add(sc::kHttpRequestMethod, method);
  if (method == kOther) out.Add(sc::kHttpRequestMethodOriginal, req.method);
  out.AddIfNotEmpty(sc::kUrlPath, path);
  out.AddIfNotEmpty(sc::kUrlQuery, query);
  out.Add(sc::kUrlScheme, req.scheme.empty() ? std::string_view("http") : req.scheme);
  out.AddIfNotEmpty(sc::kServerAddress, server_address);
  out.AddIfPositive(sc::kServerPort, server_port);
  if (!req.peer_address.empty()) {
    out.Add(sc::kClientAddress, req.peer_address);
    out.Add(sc::kNetworkPeerAddress, req.peer_address);
  }
  out.AddIfPositive(sc::kNetworkPeerPort, req.peer_port);
  out.AddIfNotEmpty(sc::kNetworkProtocolVersion, ProtocolVersion(req.protocol_version));
  out.AddIfNotEmpty(sc::kUserAgentOriginal, user_agent);
  return method;
}

StatusCode ServerResponseAttributes(int status_code, bool threw, std::string_view exception_type,
                                    ResponseScratch& scratch, ResponseAttributeList& out) noexcept {
  out.AddIfPositive(semconv::kHttpResponseStatusCode, status_code);
  if (threw) {
    out.AddIfNotEmpty(semconv::kErrorType, exception_type);
    return StatusCode::kUnset;
  }
  if (status_code > 0 && ServerStatusFor(status_code) == StatusCode::kError) {
    out.Add(semconv::kErrorType, StatusDigits(status_code, scratch));
    return StatusCode::kError;
  }
  return StatusCode::kUnset;
}

std::string_view ClientRequestAttributes(const ClientRequestView& req, const UrlRedactor& redactor,
                                         AttributeScratch& scratch,
                                         ClientRequestAttributeList& out) noexcept {
  namespace sc = semconv;
  const std::string_view method = NormalizeMethod(req.method);
  std::string_view host = req.server_address;
  int port = req.server_port;
  {
    std::string_view s, h;
    int p = 0;
    if (ParseUrlAuthority(req.url, &s, &h, &p)) {
      if (host.empty()) host = h;
      if (port == 0) port = p;
    }
  }
  std::string_view url_full = req.url;
  try {
    if (!url_full.empty() && redactor.RedactUrl(url_full, &scratch.redacted)) {
      url_full = scratch.redacted;
    }
  } catch (...) {
    url_full = {};
  }
  out.Add(sc::kHttpRequestMethod, method);
  if (method == kOther) out.Add(sc::kHttpRequestMethodOriginal, req.method);
  out.AddIfNotEmpty(sc::kServerAddress, host);
  out.AddIfPositive(sc::kServerPort, port);
  out.AddIfNotEmpty(sc::kUrlFull, url_full);
  return method;
}

StatusCode ClientResponseAttributes(const ClientResponseView& res, ResponseScratch& scratch,
                                    ResponseAttributeList& out,
                                    std::string_view* description) noexcept {
  namespace sc = semconv;
  *description = {};
  out.AddIfPositive(sc::kHttpResponseStatusCode, res.status_code);
  out.AddIfNotEmpty(sc::kNetworkProtocolVersion, ProtocolVersion(res.protocol_version));
  out.AddIfNotEmpty(sc::kNetworkPeerAddress, res.peer_address);
  out.AddIfPositive(sc::kNetworkPeerPort, res.peer_port);
  if (!res.error_type.empty()) {
    out.Add(sc::kErrorType, res.error_type);
    *description = res.error_message.empty() ? res.error_type : res.error_message;
    return StatusCode::kError;
  }
  if (res.status_code > 0 && ClientStatusFor(res.status_code) == StatusCode::kError) {
    out.Add(sc::kErrorType, StatusDigits(res.status_code, scratch));
    return StatusCode::kError;
  }
  return StatusCode::kUnset;
}

}  // namespace otelweb::http
