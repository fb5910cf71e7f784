// HTTP semantic conventions as pure functions (library otelweb_http): the
// method as http.request.method wants it, the span status of a response, and
// the attribute lists of server and client spans built from the adapter's
// views (semantic conventions, "HTTP spans"). No state; the builders write
// into bounded lists (instrumentation::AttrList) and caller-owned scratch, and
// allocate only to redact a query or URL that holds secrets.
// Keys: otelweb/semconv.h.
// Ownership: the attributes built point into the views, the scratch and
// static storage: they are valid while those are.
// Thread-safety: every function may be called from any thread.
#pragma once

#include <string>
#include <string_view>

#include "otelweb/instrumentation.h"
#include "otelweb/trace/span.h"

namespace otelweb::http {

struct ServerRequestView;
struct ClientRequestView;
struct ClientResponseView;
class UrlRedactor;

// The method as semconv wants it in http.request.method: one of the known
// methods (GET HEAD POST PUT DELETE CONNECT OPTIONS TRACE PATCH QUERY; exact,
// case-sensitive, as HTTP methods are) or "_OTHER". The returned view points to
// static storage.
std::string_view NormalizeMethod(std::string_view method) noexcept;
bool IsKnownMethod(std::string_view method) noexcept;
// The method part of a span name: the normalized method, "HTTP" for "_OTHER".
std::string_view SpanNameMethod(std::string_view normalized_method) noexcept;
// network.protocol.version from "1.1", "HTTP/1.1" or "http/2" (prefix removed).
std::string_view ProtocolVersion(std::string_view version) noexcept;

// Span status for a response status code. Server spans: Error for 5xx and for
// codes outside 100..599, Unset otherwise. Client spans: Error from 400 on.
StatusCode ServerStatusFor(int status_code) noexcept;
StatusCode ClientStatusFor(int status_code) noexcept;

// Bounded lists for the builders below (their largest output fits).
using ServerRequestAttributeList = instrumentation::AttrList<16>;
using ClientRequestAttributeList = instrumentation::AttrList<8>;
using ResponseAttributeList = instrumentation::AttrList<6>;

// Strings the request builders may need to own (what the attributes point
// into).
struct AttributeScratch {
  std::string host;        // a Host header joined from several lines
  std::string user_agent;  // likewise
  std::string redacted;    // a redacted query or URL
};
// What the response builders may need to own: error.type "503".
struct ResponseScratch {
  char status_digits[12];
};

// A server request's span-start attributes: http.request.method (and
// _original), url.path, url.query (secrets redacted), url.scheme,
// server.address/port (from the Host header, port from the scheme when
// absent, else the local port), client.address, network.peer.address/port,
// network.protocol.version, user_agent.original. Returns the normalized
// method.
std::string_view ServerRequestAttributes(const ServerRequestView& req, const UrlRedactor& redactor,
                                         AttributeScratch& scratch,
                                         ServerRequestAttributeList& out) noexcept;

// A server response's attributes: http.response.status_code (when > 0) and
// error.type: `exception_type` when the handler threw (non-empty), else the
// status code when it makes the span an error. Returns kError when the caller
// must set the span status to Error because of the status code, kUnset
// otherwise (an exception's status is set when it is recorded).
StatusCode ServerResponseAttributes(int status_code, bool threw, std::string_view exception_type,
                                    ResponseScratch& scratch, ResponseAttributeList& out) noexcept;

// An outgoing request's span-start attributes: http.request.method (and
// _original), server.address/port (from the view, else from the URL),
// url.full (credentials and secret query values redacted). Returns the
// normalized method.
std::string_view ClientRequestAttributes(const ClientRequestView& req, const UrlRedactor& redactor,
                                         AttributeScratch& scratch,
                                         ClientRequestAttributeList& out) noexcept;

// A client response's attributes: http.response.status_code,
// network.protocol.version, network.peer.address/port, error.type (the
// transport error, else the status code from 400 on). Returns the span status
// to set (kError or kUnset); *description is the error message for Error.
StatusCode ClientResponseAttributes(const ClientResponseView& res, ResponseScratch& scratch,
                                    ResponseAttributeList& out,
                                    std::string_view* description) noexcept;

}  // namespace otelweb::http
