// ClientInstrumenter (compiled client settings) and ClientSpan (one outgoing
// request's CLIENT span).
#include <chrono>
#include <cstring>
#include <string>

#include "http/client_metrics.h"
#include "http/server_metrics.h"

#include "otelweb/diagnostics.h"
#include "otelweb/http/client.h"
#include "otelweb/semconv.h"

namespace otelweb::http {

namespace {

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

// ---------------------------------------------------------------------------
// ClientInstrumenter

ClientInstrumenter::ClientInstrumenter(ClientSettings settings, std::string_view library,
                                       std::string_view scope_name)
    : InstrumenterBase(settings, library, kEnvCaptureClientRequest, kEnvCaptureClientResponse,
                       scope_name),
      settings_(std::move(settings)),
      metrics_(std::make_shared<internal::ClientMetricsSource>(settings_.meter_provider,
                                                               std::string(scope_name))) {}

const internal::ClientMetrics* ClientInstrumenter::metrics() const noexcept {
  return metrics_->Get();
}

// ---------------------------------------------------------------------------
// ClientSpan

ClientSpan::~ClientSpan() {
  if (active_) {
    scope_.reset();
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

  AttributeScratch scratch;
  ClientRequestAttributeList attrs;
  const std::string_view method = ClientRequestAttributes(req, inst.redactor(), scratch, attrs);

  // The request's metric attributes, kept until End: the method, and the
  // server address and port as the span has them.
  metrics_ = inst.metrics();
  if (metrics_ != nullptr) {
    method_ = method;
    request_size_ = req.body_size;
    server_port_ = 0;
    address_len_ = 0;
    address_long_.clear();
    if (const AttributeValue* a = attrs.Find(semconv::kServerAddress)) {
      const std::string_view address = a->as_string();
      if (address.size() <= sizeof(address_)) {
        std::memcpy(address_, address.data(), address.size());
        address_len_ = static_cast<uint8_t>(address.size());
      } else {
        try {
          address_long_.assign(address);  // rare: a name longer than the inline buffer
        } catch (...) {
        }
      }
    }
    if (const AttributeValue* p = attrs.Find(semconv::kServerPort)) {
      server_port_ = static_cast<int>(p->as_int());
    }
  }

  start_ = Now();
  SpanOptions so;
  so.kind = SpanKind::kClient;
  so.parent = parent;
  so.start_time = start_;
  so.attributes = attrs.attributes();
  const instrumentation::ResolvedTracer& resolved = inst.instrumentation_tracer().Resolve();
  resolved_ = &resolved;
  span_ = inst.instrumentation_tracer().StartSpan(resolved, SpanNameMethod(method), so);
  // A no-op tracer (no provider installed yet, or shut down) makes invalid
  // spans: the parent's context then travels on unchanged.
  context_ = span_.GetContext().IsValid() ? span_.AsContext(*parent) : *parent;
  active_ = true;
  if (req.headers != nullptr && span_.IsRecording()) {
    inst.request_capture().Capture(*req.headers, span_.Ref());
  }
  if (make_current) scope_.emplace(context_);
  return true;
}

void ClientSpan::Inject(TextMapSetter& carrier, SkipField skip, void* skip_ctx) const noexcept {
  if (!active_ || resolved_ == nullptr) return;
  FilteringSetter filtered(carrier, skip, skip_ctx);
  // Also without a real provider: the span is then a no-op, but the parent's
  // context still travels on (as the spec asks of a non-recording span).
  if (const TextMapPropagator* prop = resolved_->propagator.get()) prop->Inject(context_, filtered);
}

void ClientSpan::SetMethod(std::string_view method) noexcept {
  if (!active_ || method.empty()) return;
  std::string_view m = NormalizeMethod(method);
  method_ = m;  // static storage
  if (!span_.IsRecording()) return;
  instrumentation::SetInstrumentationAttribute(span_, semconv::kHttpRequestMethod, m);
  if (m == semconv::kOtherValue) {
    instrumentation::SetInstrumentationAttribute(span_, semconv::kHttpRequestMethodOriginal, method);
  }
  span_.UpdateName(SpanNameMethod(m));
}

void ClientSpan::RecordMetrics(const ClientResponseView& res,
                               const ResponseAttributeList& response, Timestamp end) noexcept {
  const internal::ClientMetrics* m = metrics_;
  metrics_ = nullptr;
  // Of the span's response attributes the metrics keep status code,
  // error.type and protocol version (one rule for both signals).
  KeyValue kv[3 + ResponseAttributeList::kCapacity];
  size_t n = 0;
  kv[n++] = {semconv::kHttpRequestMethod, method_};
  kv[n++] = {semconv::kServerAddress, address_long_.empty()
                                          ? std::string_view(address_, address_len_)
                                          : std::string_view(address_long_)};
  if (server_port_ > 0) kv[n++] = {semconv::kServerPort, static_cast<int64_t>(server_port_)};
  for (const KeyValue& a : response) {
    if (a.key == semconv::kHttpResponseStatusCode || a.key == semconv::kErrorType ||
        a.key == semconv::kNetworkProtocolVersion) {
      kv[n++] = a;
    }
  }
  const Attributes attrs(kv, n);
  const double seconds = std::chrono::duration<double>(end - start_).count();
  // No response: what was sent is not known (the duration only).
  const bool answered = res.status_code > 0;
  const int64_t sent = res.request_body_size >= 0 ? res.request_body_size : request_size_;
  internal::RecordHttpHistograms(m->duration, m->request_size, m->response_size, attrs, seconds,
                                 answered ? sent : -1, answered ? res.body_size : -1);
}

void ClientSpan::End(const ClientResponseView& res, Timestamp end_time) noexcept {
  if (!active_) return;
  const bool recording = span_.IsRecording();
  ResponseScratch scratch;
  ResponseAttributeList attrs;
  std::string_view description;
  StatusCode status = StatusCode::kUnset;
  if (recording || metrics_ != nullptr) {
    status = ClientResponseAttributes(res, scratch, attrs, &description);
  }
  if (recording) {
    instrumentation::SetInstrumentationAttributes(span_, attrs.attributes());
    if (status == StatusCode::kError) span_.SetStatus(StatusCode::kError, description);
    if (res.headers != nullptr) inst_->response_capture().Capture(*res.headers, span_.Ref());
  }
  // One end time for the span and the duration; recorded while the span is
  // current so that the duration's exemplar names it.
  Timestamp end = end_time;
  if (metrics_ != nullptr) {
    if (end.time_since_epoch().count() == 0) end = Now();
    if (scope_ || !recording) {
      RecordMetrics(res, attrs, end);
    } else {
      Scope current(context_);
      RecordMetrics(res, attrs, end);
    }
  }
  scope_.reset();
  span_.End(end);
  active_ = false;
  context_ = Context();
}

}  // namespace otelweb::http
