// OTLP/JSON: the console exporter's renderer (core) is the one implementation,
// so the JSON-lines console output and the OTLP/HTTP JSON body never differ.
#include "otelweb/trace/console_exporter.h"
#include "otelweb/otlp/exporter.h"

namespace otelweb::otlp {

std::string EncodeJson(std::span<const SpanData* const> spans) { return SpansToOtlpJson(spans); }

std::string_view ProtocolName(Protocol p) noexcept {
  switch (p) {
    case Protocol::kGrpc:
      return "grpc";
    case Protocol::kHttpProtobuf:
      return "http/protobuf";
    case Protocol::kHttpJson:
      return "http/json";
  }
  return "?";
}

}  // namespace otelweb::otlp
