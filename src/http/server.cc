// ServerInstrumenter (compiled options) and ServerSpan (one request's span).
#include <charconv>
#include <cstring>
#include <new>
#include <string>
#include <typeinfo>

#include <cxxabi.h>

#include "core/config.h"
#include "otelweb/diagnostics.h"
#include "otelweb/http/server.h"
#include "otelweb/http/client.h"

namespace otelweb::http {

namespace {

class EmptyHeaders final : public HeaderReader {
 public:
  void ForEach(Visitor, void*) const noexcept override {}
  std::string_view Get(std::string_view, std::string&) const noexcept override { return {}; }
};
const EmptyHeaders kNoHeaders;

std::string_view StripHttpPrefix(std::string_view v) noexcept {
  if (v.size() > 5 && (v[0] == 'H' || v[0] == 'h') && (v.substr(1, 4) == "TTP/" ||
                                                       v.substr(1, 4) == "ttp/")) {
    return v.substr(5);
  }
  return v;
}

void SplitTarget(std::string_view target, std::string_view* path, std::string_view* query) {
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

std::string DemangledTypeName(const std::type_info* ti) {
  if (ti == nullptr) return "unknown";
  int status = 0;
  char* d = abi::__cxa_demangle(ti->name(), nullptr, nullptr, &status);
  std::string r = (status == 0 && d != nullptr) ? std::string(d) : std::string(ti->name());
  std::free(d);
  return r;
}

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

std::string_view SpanNameMethod(std::string_view normalized) noexcept {
  return normalized == "_OTHER" ? std::string_view("HTTP") : normalized;
}

}  // namespace

// ---------------------------------------------------------------------------
// ServerInstrumenter

ServerInstrumenter::ServerInstrumenter(ServerOptions options, std::string_view framework)
    : options_(std::move(options)),
      redactor_(options_.secret_query_params),
      excluder_(UrlExcluder::FromConfig(options_.excluded_urls, framework)) {
  std::vector<std::string> sanitize =
      PatternsFromConfig(options_.sanitize_fields, kEnvCaptureSanitize);
  request_capture_ =
      HeaderCapture(PatternsFromConfig(options_.capture_request_headers, kEnvCaptureServerRequest),
                    sanitize, "http.request.header.");
  response_capture_ = HeaderCapture(
      PatternsFromConfig(options_.capture_response_headers, kEnvCaptureServerResponse), sanitize,
      "http.response.header.");
}

const ServerInstrumenter::Resolved& ServerInstrumenter::Resolve() const noexcept {
  static const Resolved kNothing{};
  // The generation is read before the globals: a snapshot is never tagged
  // with a generation newer than what it holds.
  const uint64_t gen = GlobalsGeneration();
  const Resolved* r = resolved_.load(std::memory_order_acquire);
  if (r != nullptr && r->generation == gen) return *r;
  try {
    std::lock_guard<std::mutex> lock(resolve_mu_);
    r = resolved_.load(std::memory_order_relaxed);
    if (r != nullptr && r->generation == gen) return *r;
    auto next = std::make_unique<Resolved>();
    next->generation = gen;
    std::shared_ptr<TracerProvider> p =
        options_.tracer_provider ? options_.tracer_provider : GetTracerProvider();
    next->tracer = p->GetTracer(kServerScopeName, kVersion);
    // With the no-op global provider every span is invalid: skip extraction.
    if (options_.tracer_provider || p != TracerProvider::NoOp()) {
      next->propagator = GetTextMapPropagator();
    }
    r = next.get();
    all_resolved_.push_back(std::move(next));
    resolved_.store(r, std::memory_order_release);
    return *r;
  } catch (...) {
    return r != nullptr ? *r : kNothing;
  }
}

Tracer ServerInstrumenter::tracer() const noexcept { return Resolve().tracer; }

const TextMapPropagator* ServerInstrumenter::propagator() const noexcept {
  return Resolve().propagator.get();
}

bool ServerInstrumenter::IsExcluded(const ServerRequestView& req) const noexcept {
  if (excluder_.empty()) return false;
  std::string_view path = req.path;
  std::string_view query = req.query;
  if (path.empty()) SplitTarget(req.target, &path, &query);
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
  try {
    options_.request_hook(span, req);
  } catch (const std::exception& e) {
    if (!hook_warned_.load(std::memory_order_relaxed)) {
      try {
        LogOnce(hook_warned_, LogLevel::kWarning,
                std::string("otelweb: a request hook threw (reported once): ") + e.what());
      } catch (...) {
      }
    }
  } catch (...) {
    LogOnce(hook_warned_, LogLevel::kWarning,
            "otelweb: a request hook threw a non-std exception (reported once)");
  }
}

void ServerInstrumenter::RunResponseHook(SpanRef span, const ServerRequestView& req,
                                         const ServerResponseView& res) const noexcept {
  if (!options_.response_hook) return;
  try {
    options_.response_hook(span, req, res);
  } catch (const std::exception& e) {
    if (!hook_warned_.load(std::memory_order_relaxed)) {
      try {
        LogOnce(hook_warned_, LogLevel::kWarning,
                std::string("otelweb: a response hook threw (reported once): ") + e.what());
      } catch (...) {
      }
    }
  } catch (...) {
    LogOnce(hook_warned_, LogLevel::kWarning,
            "otelweb: a response hook threw a non-std exception (reported once)");
  }
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
  const ServerInstrumenter::Resolved& resolved = inst.Resolve();
  Tracer tracer = resolved.tracer;
  inst_ = &inst;
  has_route_ = false;
  exception_ = false;
  error_type_.clear();
  method_ = NormalizeMethod(req.method);

  const HeaderReader& headers = req.headers != nullptr ? *req.headers : kNoHeaders;
  std::string_view path = req.path;
  std::string_view query = req.query;
  if (path.empty()) SplitTarget(req.target, &path, &query);

  std::string host_scratch;
  std::string ua_scratch;
  std::string_view host = req.host.empty() ? headers.Get("host", host_scratch) : req.host;
  std::string_view server_address;
  int server_port = 0;
  if (ParseHostPort(host, &server_address, &server_port)) {
    if (server_port == 0) server_port = req.scheme == "https" ? 443 : 80;
  } else {
    server_address = {};
    server_port = req.local_port;
  }
  std::string_view user_agent = headers.Get("user-agent", ua_scratch);
  std::string redacted_query;
  if (!query.empty() && inst.redactor().RedactQuery(query, &redacted_query)) {
    query = redacted_query;
  }
  std::string_view version = StripHttpPrefix(req.protocol_version);

  KeyValue attrs[16];
  size_t n = 0;
  attrs[n++] = {"http.request.method", method_};
  if (method_ == "_OTHER") attrs[n++] = {"http.request.method_original", req.method};
  if (!path.empty()) attrs[n++] = {"url.path", path};
  if (!query.empty()) attrs[n++] = {"url.query", query};
  attrs[n++] = {"url.scheme", req.scheme.empty() ? std::string_view("http") : req.scheme};
  if (!server_address.empty()) attrs[n++] = {"server.address", server_address};
  if (server_port > 0) attrs[n++] = {"server.port", server_port};
  if (!req.peer_address.empty()) {
    attrs[n++] = {"client.address", req.peer_address};
    attrs[n++] = {"network.peer.address", req.peer_address};
  }
  if (req.peer_port > 0) attrs[n++] = {"network.peer.port", req.peer_port};
  if (!version.empty()) attrs[n++] = {"network.protocol.version", version};
  if (!user_agent.empty()) attrs[n++] = {"user_agent.original", user_agent};

  Context base = Context::Current();
  SpanOptions so;
  so.start_time = arrival;
  so.attributes = Attributes(attrs, n);
  Context parent;
  if (base.span_context().IsValid() && !base.span_context().is_remote()) {
    // Already inside a span (e.g. an outer middleware): a child, as Flask does.
    so.kind = SpanKind::kInternal;
    parent = base;
  } else {
    so.kind = SpanKind::kServer;
    const TextMapPropagator* prop = resolved.propagator.get();
    parent = prop != nullptr ? prop->Extract(headers, base) : base;
  }
  so.parent = &parent;
  span_ = tracer.StartSpan(SpanNameMethod(method_), so);
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
  span_.SetAttribute("http.route", route);
  NameBuf name(SpanNameMethod(method_), route);
  span_.UpdateName(name.view());
}

void ServerSpan::RecordException(const std::exception& e) noexcept {
  if (!active_) return;
  exception_ = true;
  span_.RecordException(e);
  try {
    error_type_ = DemangledTypeName(&typeid(e));
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
    try {
      RecordException(DemangledTypeName(abi::__cxa_current_exception_type()), "");
    } catch (...) {
      RecordException("unknown", "");
    }
  }
}

void ServerSpan::End(const ServerResponseView& res, const ServerRequestView* req,
                     Timestamp end_time) noexcept {
  if (!active_) return;
  if (span_.IsRecording()) {
    if (res.status_code > 0) span_.SetAttribute("http.response.status_code", res.status_code);
    if (exception_) {
      if (!error_type_.empty()) span_.SetAttribute("error.type", error_type_);
    } else if (res.status_code > 0 && ServerStatusFor(res.status_code) == StatusCode::kError) {
      char buf[16];
      auto r = std::to_chars(buf, buf + sizeof(buf), res.status_code);
      span_.SetAttribute("error.type", std::string_view(buf, size_t(r.ptr - buf)));
      span_.SetStatus(StatusCode::kError);
    }
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
  if (!active_ || scope_live_) return;
  new (scope_buf_) Scope(context_);
  scope_live_ = true;
}

void ServerSpan::Deactivate() noexcept {
  if (!scope_live_) return;
  std::launder(reinterpret_cast<Scope*>(scope_buf_))->~Scope();
  scope_live_ = false;
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
