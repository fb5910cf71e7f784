// OtlpSpanExporter: encodes spans (protobuf or OTLP/JSON) and hands the
// request to the signal-neutral ExportClient (compression, transport, retry).
#include <mutex>

#include "otelweb/diagnostics.h"
#include "otelweb/otlp/exporter.h"
#include "otlp/export_client.h"

namespace otelweb::otlp {

struct OtlpSpanExporter::Impl {
  explicit Impl(ResolvedOtlpOptions o) : client(std::move(o)) {}
  internal::ExportClient client;
  ProtobufEncoder encoder;
  std::string json;

  ExportResult Export(std::span<EndedSpan> batch) {
    if (batch.empty()) return ExportResult::kSuccess;
    if (!client.Accepting(batch.size())) return ExportResult::kFailure;
    std::span<const EndedSpan> spans(batch.data(), batch.size());
    const bool as_json = client.options().protocol == Protocol::kHttpJson;
    return client.SendInParts(spans, [&](std::span<const EndedSpan> part) -> std::string_view {
      if (as_json) {
        json = EncodeJson(part);
        return json;
      }
      return encoder.EncodeView(part);
    });
  }
};

OtlpSpanExporter::OtlpSpanExporter(OtlpExporterOptions options)
    : impl_(new Impl(ResolveOptions(options, Signal::kTraces))) {}

OtlpSpanExporter::~OtlpSpanExporter() { (void)Shutdown(std::chrono::milliseconds(0)); }

ExportResult OtlpSpanExporter::Export(std::span<EndedSpan> batch) noexcept {
  return impl_->client.Guarded(batch.size(), [&] { return impl_->Export(batch); });
}

OperationResult OtlpSpanExporter::ForceFlush(std::chrono::milliseconds timeout) noexcept {
  return impl_->client.ForceFlush(timeout);
}

OperationResult OtlpSpanExporter::Shutdown(std::chrono::milliseconds timeout) noexcept {
  return impl_->client.Shutdown(timeout);
}

std::string_view OtlpSpanExporter::Name() const noexcept {
  return impl_->client.ExporterName();
}

OtlpExporterCounters OtlpSpanExporter::counters() const noexcept {
  const internal::ExportClientCounters k = impl_->client.counters();
  OtlpExporterCounters c;
  c.spans_exported = k.items_exported;
  c.spans_rejected = k.items_rejected;
  c.spans_dropped = k.items_dropped;
  c.requests = k.requests;
  c.retries = k.retries;
  c.batches_failed = k.batches_failed;
  return c;
}

const ResolvedOtlpOptions& OtlpSpanExporter::options() const noexcept { return impl_->client.options(); }

}  // namespace otelweb::otlp
