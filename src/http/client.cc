// ClientInstrumenter (compiled client settings) and ClientSpan (one outgoing
// request's CLIENT span).
#include <charconv>
#include <new>
#include <string>

#include "otelweb/diagnostics.h"
#include "otelweb/http/server.h"
#include "otelweb/http/client.h"

namespace otelweb::http {

namespace {

std::string_view StripHttpPrefix(std::string_view v) noexcept {
  if (v.size() > 5 && (v[0] == 'H' || v[0] == 'h') &&
      (v.substr(1, 4) == "TTP/" || v.substr(1, 4) == "ttp/")) {
    return v.substr(5);
  }
  return v;
}

std::string_view SpanNameMethod(std::string_view normalized) noexcept {
  return normalized == "_OTHER" ? std::string_view("HTTP") : normalized;
}

// Filters the propagator's writes: keys the user already set are kept.
class FilteringSetter final : public TextMapSetter {
 public:
  FilteringSetter(TextMapSetter& inner, ClientSpan::SkipField skip, void* ctx) noexcept
      : inner_(inner), skip_(skip), ctx_(ctx) {}
  void Set(std::string_view key, std::string_view value) noexcept override {
    if (skip_ != nullptr && skip_(ctx_, key)) return;
    inner_.Set(key, value);
  }

 private:
  TextMapSetter& inner_;
  ClientSpan::SkipField skip_;
  void* ctx_;
};

}  // namespace

bool ParseUrlAuthority(std::string_view url, std::string_view* scheme, std::string_view* host,
                       int* port) noexcept {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  std::string_view sch = url.substr(0, sep);
  std::string_view rest = url.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority = authority.substr(at + 1);
  std::string_view h;
  int p = 0;
  if (!ParseHostPort(authority, &h, &p)) return false;
  if (p == 0) {
    if (sch == "http" || sch == "HTTP" || sch == "ws") {
      p = 80;
    } else if (sch == "https" || sch == "HTTPS" || sch == "wss") {
      p = 443;
    }
  }
  *scheme = sch;
  *host = h;
  *port = p;
  return true;
}

// ---------------------------------------------------------------------------
// ClientInstrumenter

ClientInstrumenter::ClientInstrumenter(ClientSettings settings, std::string_view library,
                                       std::string_view scope_name)
    : settings_(std::move(settings)),
      scope_name_(scope_name),
      redactor_(settings_.secret_query_params),
      excluder_(UrlExcluder::FromConfig(settings_.excluded_urls, library)) {
  std::vector<std::string> sanitize =
      PatternsFromConfig(settings_.sanitize_fields, kEnvCaptureSanitize);
  request_capture_ =
      HeaderCapture(PatternsFromConfig(settings_.capture_request_headers, kEnvCaptureClientRequest),
                    sanitize, "http.request.header.");
  response_capture_ = HeaderCapture(
      PatternsFromConfig(settings_.capture_response_headers, kEnvCaptureClientResponse), sanitize,
      "http.response.header.");
}

Tracer ClientInstrumenter::tracer() const noexcept {
  if (tracer_fixed_.load(std::memory_order_acquire)) return tracer_;
  try {
    std::lock_guard<std::mutex> lock(tracer_mu_);
    if (tracer_fixed_.load(std::memory_order_relaxed)) return tracer_;
    std::shared_ptr<TracerProvider> p =
        settings_.tracer_provider ? settings_.tracer_provider : GetTracerProvider();
    Tracer t = p->GetTracer(scope_name_, kVersion);
    if (settings_.tracer_provider || p != TracerProvider::NoOp()) {
      tracer_ = t;
      propagator_ = GetTextMapPropagator();
      tracer_fixed_.store(true, std::memory_order_release);
    }
    return t;
  } catch (...) {
    return Tracer();
  }
}

const TextMapPropagator* ClientInstrumenter::propagator() const noexcept {
  if (!tracer_fixed_.load(std::memory_order_acquire)) return nullptr;
  return propagator_.get();
}

void ClientInstrumenter::ReportHookFailure(const char* what) const noexcept {
  if (hook_warned_.load(std::memory_order_relaxed)) return;
  try {
    LogOnce(hook_warned_, LogLevel::kWarning,
            std::string("otelweb: an HTTP client hook threw (reported once): ") + what);
  } catch (...) {
  }
}

// ---------------------------------------------------------------------------
// ClientSpan

ClientSpan::~ClientSpan() {
  if (active_) {
    if (scope_live_) {
      std::launder(reinterpret_cast<Scope*>(scope_buf_))->~Scope();
      scope_live_ = false;
    }
    span_.End();
    active_ = false;
  }
}

bool ClientSpan::Start(const ClientInstrumenter& inst, const ClientRequestView& req,
                       const Context* parent, bool make_current) noexcept {
  if (active_) End({});
  Context current;
  if (parent == nullptr) {
    current = Context::Current();
    parent = &current;
  }
  if (parent->instrumentation_suppressed()) return false;
  if (inst.IsExcluded(req.url)) return false;
  inst_ = &inst;

  std::string_view method = NormalizeMethod(req.method);
  std::string_view scheme;
  std::string_view host = req.server_address;
  int port = req.server_port;
  {
    std::string_view s, h;
    int p = 0;
    if (ParseUrlAuthority(req.url, &s, &h, &p)) {
      scheme = s;
      if (host.empty()) host = h;
      if (port == 0) port = p;
    }
  }
  std::string redacted;
  std::string_view url_full = req.url;
  try {
    if (!url_full.empty() && inst.redactor().RedactUrl(url_full, &redacted)) url_full = redacted;
  } catch (...) {
    url_full = {};
  }
  (void)scheme;

  KeyValue attrs[8];
  size_t n = 0;
  attrs[n++] = {"http.request.method", method};
  if (method == "_OTHER") attrs[n++] = {"http.request.method_original", req.method};
  if (!host.empty()) attrs[n++] = {"server.address", host};
  if (port > 0) attrs[n++] = {"server.port", port};
  if (!url_full.empty()) attrs[n++] = {"url.full", url_full};

  start_ = Now();
  SpanOptions so;
  so.kind = SpanKind::kClient;
  so.parent = parent;
  so.start_time = start_;
  so.attributes = Attributes(attrs, n);
  span_ = inst.tracer().StartSpan(SpanNameMethod(method), so);
  // A no-op tracer (no provider installed yet, or shut down) makes invalid
  // spans: the parent's context then travels on unchanged.
  context_ = span_.GetContext().IsValid() ? span_.AsContext(*parent) : *parent;
  active_ = true;
  if (req.headers != nullptr && span_.IsRecording()) {
    inst.request_capture().Capture(*req.headers, span_.Ref());
  }
  if (make_current) {
    new (scope_buf_) Scope(context_);
    scope_live_ = true;
  }
  return true;
}

void ClientSpan::Inject(TextMapSetter& carrier, SkipField skip, void* skip_ctx) const noexcept {
  if (!active_ || inst_ == nullptr) return;
  FilteringSetter filtered(carrier, skip, skip_ctx);
  if (const TextMapPropagator* prop = inst_->propagator()) {
    prop->Inject(context_, filtered);
    return;
  }
  // No real provider yet: the span is a no-op, but the parent's context still
  // travels on (as the spec asks of a non-recording span).
  std::shared_ptr<TextMapPropagator> global = GetTextMapPropagator();
  if (global) global->Inject(context_, filtered);
}

void ClientSpan::SetMethod(std::string_view method) noexcept {
  if (!active_ || !span_.IsRecording() || method.empty()) return;
  std::string_view m = NormalizeMethod(method);
  span_.SetAttribute("http.request.method", m);
  if (m == "_OTHER") span_.SetAttribute("http.request.method_original", method);
  span_.UpdateName(SpanNameMethod(m));
}

void ClientSpan::End(const ClientResponseView& res, Timestamp end_time) noexcept {
  if (!active_) return;
  if (span_.IsRecording()) {
    if (res.status_code > 0) span_.SetAttribute("http.response.status_code", res.status_code);
    std::string_view version = StripHttpPrefix(res.protocol_version);
    if (!version.empty()) span_.SetAttribute("network.protocol.version", version);
    if (!res.peer_address.empty()) span_.SetAttribute("network.peer.address", res.peer_address);
    if (res.peer_port > 0) span_.SetAttribute("network.peer.port", res.peer_port);
    if (!res.error_type.empty()) {
      span_.SetAttribute("error.type", res.error_type);
      span_.SetStatus(StatusCode::kError,
                      res.error_message.empty() ? res.error_type : res.error_message);
    } else if (res.status_code > 0 && ClientStatusFor(res.status_code) == StatusCode::kError) {
      char buf[16];
      auto r = std::to_chars(buf, buf + sizeof(buf), res.status_code);
      span_.SetAttribute("error.type", std::string_view(buf, size_t(r.ptr - buf)));
      span_.SetStatus(StatusCode::kError);
    }
    if (res.headers != nullptr) inst_->response_capture().Capture(*res.headers, span_.Ref());
  }
  if (scope_live_) {
    std::launder(reinterpret_cast<Scope*>(scope_buf_))->~Scope();
    scope_live_ = false;
  }
  span_.End(end_time);
  active_ = false;
  context_ = Context();
}

}  // namespace otelweb::http
