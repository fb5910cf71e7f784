// ClientInstrumenter (compiled client settings) and ClientSpan (one outgoing
// request's CLIENT span).
#include <string>

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
      settings_(std::move(settings)) {}

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
  if (!active_ || !span_.IsRecording() || method.empty()) return;
  std::string_view m = NormalizeMethod(method);
  instrumentation::SetInstrumentationAttribute(span_, semconv::kHttpRequestMethod, m);
  if (m == semconv::kOtherValue) {
    instrumentation::SetInstrumentationAttribute(span_, semconv::kHttpRequestMethodOriginal, method);
  }
  span_.UpdateName(SpanNameMethod(m));
}

void ClientSpan::End(const ClientResponseView& res, Timestamp end_time) noexcept {
  if (!active_) return;
  if (span_.IsRecording()) {
    ResponseScratch scratch;
    ResponseAttributeList attrs;
    std::string_view description;
    StatusCode status = ClientResponseAttributes(res, scratch, attrs, &description);
    instrumentation::SetInstrumentationAttributes(span_, attrs.attributes());
    if (status == StatusCode::kError) span_.SetStatus(StatusCode::kError, description);
    if (res.headers != nullptr) inst_->response_capture().Capture(*res.headers, span_.Ref());
  }
  scope_.reset();
  span_.End(end_time);
  active_ = false;
  context_ = Context();
}

}  // namespace otelweb::http
