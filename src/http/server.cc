// ServerInstrumenter (compiled options) and ServerSpan (one request's span).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <typeinfo>

#include "core/config.h"
#include "http/server_metrics.h"
#include "otelweb/diagnostics.h"
#include "otelweb/http/server.h"
#include "otelweb/instrumentation.h"
#include "otelweb/semconv.h"

namespace otelweb::http {

namespace {

class EmptyHeaders final : public HeaderReader {
 public:
  void ForEach(Visitor, void*) const noexcept override {}
  std::string_view Get(std::string_view, std::string&) const noexcept override { return {}; }
};
const EmptyHeaders kNoHeaders;

// A small stack buffer for "{method} {route}" names.
class NameBuf {
 public:
  NameBuf(std::string_view a, std::string_view b) {
    size_t n = a.size() + 1 + b.size();
    if (n <= sizeof(buf_)) {
      std::memcpy(buf_, a.data(), a.size());
      buf_[a.size()] = ' ';
      std::memcpy(buf_ + a.size() + 1, b.data(), b.size());
      view_ = {buf_, n};
    } else {
      try {
        heap_.reserve(n);
        heap_.append(a).append(" ").append(b);
        view_ = heap_;
      } catch (...) {
        view_ = a;
      }
    }
  }
  std::string_view view() const noexcept { return view_; }

 private:
  char buf_[192];
  std::string heap_;
  std::string_view view_;
};

}  // namespace

// ---------------------------------------------------------------------------
// ServerInstrumenter

ServerInstrumenter::ServerInstrumenter(ServerOptions options, std::string_view framework,
                                       std::string_view scope_name)
    : InstrumenterBase(options, framework, kEnvCaptureServerRequest, kEnvCaptureServerResponse,
                       scope_name),
      options_(std::move(options)),
      metrics_(std::make_shared<internal::ServerMetricsSource>(options_.meter_provider, std::string(scope_name))) {
  if (!options_.exclude_by_path && config::GetBool(kEnvExcludeByPath).value_or(false)) {
    options_.exclude_by_path = true;
  }
  // "^/..." is anchored at the start of what is matched: with full URLs
  // ("http://host/health") it never matches, and the request is traced.
  if (!options_.exclude_by_path && excluder_.source().find("(?:^/") != std::string::npos) {
    Log(LogLevel::kWarning,
        "an excluded URL pattern starts with '^/' (" + excluder_.source() +
            ") but excluded URLs are matched against the full URL 'scheme://host/path?query', so it never "
            "matches. Match paths instead (ServerSettings::exclude_by_path = true, or " +
            std::string(kEnvExcludeByPath) + "=true), or drop the '^' (\"/health$\")");
  }
  if (options_.public_endpoint.has_value()) {
    public_endpoint_ = *options_.public_endpoint;
  } else if (std::optional<bool> env = config::GetBool(kEnvPublicEndpoint)) {
    public_endpoint_ = *env;
  }
}

const internal::ServerMetrics* ServerInstrumenter::metrics() const noexcept { return metrics_->Get(); }

bool ServerInstrumenter::IsPublicEndpoint(const ServerRequestView& req) const noexcept {
  if (!options_.public_endpoint_fn) return public_endpoint_;
  bool is_public = true;  // a throwing decision is treated as untrusted
  instrumentation::RunGuarded(
      public_fn_warned_, "ServerSettings::public_endpoint_fn (the request is treated as public)",
      [&] { is_public = options_.public_endpoint_fn(req); }, options_.hook_exceptions);
  return is_public;
}

bool ServerInstrumenter::IsExcluded(const ServerRequestView& req) const noexcept {
  if (excluder_.empty()) return false;
  std::string_view path = req.path;
  std::string_view query = req.query;
  if (path.empty()) SplitRequestTarget(req.target, &path, &query);
  if (options_.exclude_by_path) return excluder_.Matches(path);
  try {
    thread_local std::string url;
    thread_local std::string scratch;
    std::string_view host = req.host;
    if (host.empty() && req.headers != nullptr) host = req.headers->Get("host", scratch);
    url.clear();
    url.append(req.scheme.empty() ? std::string_view("http") : req.scheme).append("://");
    url.append(host);
    if (!req.target.empty()) {
      url.append(req.target);
    } else {
      url.append(path);
      if (!query.empty()) url.append("?").append(query);
    }
    return excluder_.Matches(url);
  } catch (...) {
    return excluder_.Matches(path);
  }
}

void ServerInstrumenter::RunRequestHook(SpanRef span, const ServerRequestView& req) const noexcept {
  if (!options_.request_hook) return;
  instrumentation::RunGuarded(
      hook_warned_, "an HTTP server request hook", [&] { options_.request_hook(span, req); },
      options_.hook_exceptions);
}

void ServerInstrumenter::RunResponseHook(SpanRef span, const ServerRequestView& req,
                                         const ServerResponseView& res) const noexcept {
  if (!options_.response_hook) return;
  instrumentation::RunGuarded(
      hook_warned_, "an HTTP server response hook", [&] { options_.response_hook(span, req, res); },
      options_.hook_exceptions);
}

// ---------------------------------------------------------------------------
// ServerSpan

namespace {

std::string_view StaticScheme(std::string_view s) noexcept {
  if (s == "https") return "https";
  return "http";
}

std::string_view StaticProtocol(std::string_view v) noexcept {
  if (v.starts_with("HTTP/")) v.remove_prefix(5);
  if (v == "1.1") return "1.1";
  if (v == "2" || v == "2.0") return "2";
  if (v == "1.0") return "1.0";
  if (v == "3") return "3";
  return {};
}

}  // namespace

void ServerSpan::FinishMetrics(const ServerResponseView* res, const ServerRequestView* req,
                               Timestamp end) noexcept {
  const internal::ServerMetrics* m = metrics_;
  metrics_ = nullptr;
  if (m == nullptr) return;
  KeyValue kv[6 + kMaxLabels];
  size_t n = 0;
  kv[n++] = {semconv::kHttpRequestMethod, method_};
  kv[n++] = {semconv::kUrlScheme, scheme_};
  if (active_counted_) {
    m->active.Add(-1, Attributes(kv, 2));  // the increment's attributes
    active_counted_ = false;
  }
  if (res == nullptr) return;  // abandoned: no response, no duration
  char status_buf[12];
  if (res->status_code > 0) kv[n++] = {semconv::kHttpResponseStatusCode, res->status_code};
  if (route_len_ > 0) kv[n++] = {semconv::kHttpRoute, std::string_view(route_, route_len_)};
  if (!error_type_.empty()) {
    kv[n++] = {semconv::kErrorType, std::string_view(error_type_)};
  } else if (res->status_code >= 500) {
    int len = std::snprintf(status_buf, sizeof status_buf, "%d", res->status_code);
    kv[n++] = {semconv::kErrorType, std::string_view(status_buf, static_cast<size_t>(len))};
  }
  if (!protocol_.empty()) kv[n++] = {semconv::kNetworkProtocolVersion, protocol_};
  if (labels_.n != 0) n += labels_.AppendTo(kv + n, kMaxLabels);  // Labeler::Add
  Attributes attrs(kv, n);
  double seconds = std::chrono::duration<double>(end - start_).count();
  internal::RecordHttpHistograms(m->duration, m->request_size, m->response_size, attrs, seconds,
                                 req != nullptr ? req->body_size : -1, res->body_size);
}

ServerSpan::~ServerSpan() {
  if (active_) {
    FinishMetrics(nullptr, nullptr, {});
    Deactivate();
    span_.End();
    active_ = false;
  }
}

bool ServerSpan::Start(const ServerInstrumenter& inst, const ServerRequestView& req,
                       Timestamp arrival, bool make_current) noexcept {
  if (active_) {
    FinishMetrics(nullptr, nullptr, {});
    Deactivate();
    span_.End();
    active_ = false;
  }
  if (inst.IsExcluded(req)) return false;
  const instrumentation::InstrumentationTracer& kit = inst.instrumentation_tracer();
  const instrumentation::ResolvedTracer& resolved = kit.Resolve();
  inst_ = &inst;
  has_route_ = false;
  exception_ = false;
  error_type_.clear();

  const HeaderReader& headers = req.headers != nullptr ? *req.headers : kNoHeaders;
  AttributeScratch scratch;
  ServerRequestAttributeList attrs;
  method_ = ServerRequestAttributes(req, inst.redactor(), scratch, attrs);

  // One start time for the span and the duration metric (the clock is read
  // here only when metrics are on; otherwise the span reads it as before).
  route_len_ = 0;
  labels_.Clear();
  metrics_ = inst.metrics();
  start_ = arrival;
  if (metrics_ != nullptr) {
    if (start_.time_since_epoch().count() == 0) start_ = Now();
    scheme_ = StaticScheme(req.scheme);
    protocol_ = StaticProtocol(req.protocol_version);
    KeyValue kv[2] = {{semconv::kHttpRequestMethod, method_}, {semconv::kUrlScheme, scheme_}};
    metrics_->active.Add(1, Attributes(kv, 2));
    active_counted_ = true;
  }

  Context base = Context::Current();
  SpanOptions so;
  so.start_time = start_;
  so.attributes = attrs.attributes();
  Context parent;
  Link public_link;
  if (base.span_context().IsValid() && !base.span_context().is_remote()) {
    // Already inside a span (e.g. an outer middleware): a child, as Flask does.
    so.kind = SpanKind::kInternal;
    parent = base;
  } else {
    so.kind = SpanKind::kServer;
    // With the no-op global provider every span is invalid: skip extraction.
    const TextMapPropagator* prop = resolved.live ? resolved.propagator.get() : nullptr;
    if (prop != nullptr && inst.IsPublicEndpoint(req)) {
      // Untrusted: the client's span context becomes a link of a new root, and
      // neither its baggage nor its tracestate enters the request's context.
      const SpanContext remote = prop->Extract(headers, Context()).span_context();
      if (remote.IsValid()) {
        public_link.context = remote;
        so.links = std::span<const Link>(&public_link, 1);
      }
      so.root = true;
      parent = base.span_context().IsValid() ? base.WithSpanContext(SpanContext()) : base;
    } else {
      parent = prop != nullptr ? prop->Extract(headers, base) : base;
    }
  }
  so.parent = &parent;
  span_ = kit.StartSpan(resolved, SpanNameMethod(method_), so);
  context_ = span_.AsContext(parent);
  active_ = true;

  if (span_.IsRecording()) inst.request_capture().Capture(headers, span_.Ref());
  inst.RunRequestHook(span_.Ref(), req);
  if (make_current) Activate();
  return true;
}

void ServerSpan::SetRoute(std::string_view route) noexcept {
  if (!active_ || route.empty()) return;
  has_route_ = true;
  if (route.size() <= sizeof(route_)) {  // longer routes are left out of the metrics
    std::memcpy(route_, route.data(), route.size());
    route_len_ = static_cast<uint8_t>(route.size());
  }
  if (!span_.IsRecording()) return;
  instrumentation::SetInstrumentationAttribute(span_, semconv::kHttpRoute, route);
  NameBuf name(SpanNameMethod(method_), route);
  span_.UpdateName(name.view());
}

void ServerSpan::RecordException(const std::exception& e) noexcept {
  if (!active_) return;
  exception_ = true;
  span_.RecordException(e);
  try {
    error_type_ = instrumentation::TypeName(typeid(e));
    if (span_.IsRecording()) {
      std::string desc = error_type_ + ": " + e.what();
      span_.SetStatus(StatusCode::kError, desc);
    }
  } catch (...) {
    span_.SetStatus(StatusCode::kError);
  }
}

void ServerSpan::RecordException(std::string_view type, std::string_view message) noexcept {
  if (!active_) return;
  exception_ = true;
  span_.RecordException(type, message);
  try {
    error_type_.assign(type);
    std::string desc(type);
    if (!message.empty()) desc.append(": ").append(message);
    span_.SetStatus(StatusCode::kError, desc);
  } catch (...) {
    span_.SetStatus(StatusCode::kError);
  }
}

void ServerSpan::RecordCurrentException() noexcept {
  std::exception_ptr ep = std::current_exception();
  if (!ep) return;
  try {
    std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    RecordException(e);
  } catch (...) {
    std::string type = instrumentation::CurrentExceptionTypeName();
    RecordException(type.empty() ? std::string_view("unknown") : std::string_view(type), "");
  }
}

void ServerSpan::End(const ServerResponseView& res, const ServerRequestView* req,
                     Timestamp end_time) noexcept {
  if (!active_) return;
  if (span_.IsRecording()) {
    ResponseScratch scratch;
    ResponseAttributeList attrs;
    StatusCode status =
        ServerResponseAttributes(res.status_code, exception_, error_type_, scratch, attrs);
    instrumentation::SetInstrumentationAttributes(span_, attrs.attributes());
    if (status == StatusCode::kError) span_.SetStatus(StatusCode::kError);
    if (res.headers != nullptr) inst_->response_capture().Capture(*res.headers, span_.Ref());
  }
  static const ServerRequestView kEmptyRequest{};
  inst_->RunResponseHook(span_.Ref(), req != nullptr ? *req : kEmptyRequest, res);
  // The same end time for the span and the duration; recorded while the span
  // is current so that the duration's exemplar names it.
  Timestamp end = end_time;
  if (metrics_ != nullptr) {
    if (end.time_since_epoch().count() == 0) end = Now();
    if (scope_) {
      FinishMetrics(&res, req, end);
    } else {
      Scope current(context_);
      FinishMetrics(&res, req, end);
    }
  }
  Deactivate();
  span_.End(end);
  active_ = false;
  context_ = Context();
}

namespace internal {
extern thread_local RequestLabels* t_current_labels;  // labeler.cc
}

void ServerSpan::Activate() noexcept {
  if (!active_ || scope_) return;
  scope_.emplace(context_);
  if (metrics_ != nullptr && !labels_bound_) {  // Labeler::Current() finds this request
    labels_prev_ = std::exchange(internal::t_current_labels, &labels_);
    labels_bound_ = true;
  }
}

void ServerSpan::Deactivate() noexcept {
  scope_.reset();
  if (labels_bound_) {
    internal::t_current_labels = labels_prev_;
    labels_bound_ = false;
  }
}

bool RecordRejectedRequest(const ServerInstrumenter& inst, const ServerRequestView& req,
                           int status_code) noexcept {
  if (!inst.options().trace_rejected_requests) return false;
  Timestamp t = Now();
  ServerSpan s;
  if (!s.Start(inst, req, t, /*make_current=*/false)) return false;
  ServerResponseView res;
  res.status_code = status_code;
  s.End(res, &req, t);
  return true;
}

}  // namespace otelweb::http
