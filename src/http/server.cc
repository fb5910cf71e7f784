// ServerInstrumenter (compiled options) and ServerSpan (one request's span).
#include <cstring>
#include <string>
#include <typeinfo>

#include "core/config.h"
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
      options_(std::move(options)) {
  if (options_.public_endpoint.has_value()) {
    public_endpoint_ = *options_.public_endpoint;
  } else if (std::optional<bool> env = config::GetBool(kEnvPublicEndpoint)) {
    public_endpoint_ = *env;
  }
}

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

ServerSpan::~ServerSpan() {
  if (active_) {
    Deactivate();
    span_.End();
    active_ = false;
  }
}

bool ServerSpan::Start(const ServerInstrumenter& inst, const ServerRequestView& req,
                       Timestamp arrival, bool make_current) noexcept {
  if (active_) {
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

  Context base = Context::Current();
  SpanOptions so;
  so.start_time = arrival;
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
  Deactivate();
  span_.End(end_time);
  active_ = false;
  context_ = Context();
}

void ServerSpan::Activate() noexcept {
  if (!active_ || scope_) return;
  scope_.emplace(context_);
}

void ServerSpan::Deactivate() noexcept { scope_.reset(); }

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
