// OTLP trace exporter: OTLP/gRPC, OTLP/HTTP with protobuf and OTLP/HTTP with
// JSON, with gzip, headers, TLS and mutual TLS, timeouts and retry with
// exponential backoff, configured in code and from the OTEL_EXPORTER_OTLP_*
// environment variables (code beats environment beats the spec's defaults).
//
// Ownership: OtlpSpanExporter owns its transport (a libcurl handle or a gRPC
// channel) and its encoding buffers, which are reused from batch to batch.
// ProtobufEncoder owns its output buffer; the string returned by Encode() is
// valid until the next Encode() or the encoder's destruction.
// Thread-safety: as for every SpanExporter, Export is called by one thread at a
// time; Shutdown, ForceFlush and counters() may be called from any thread, also
// while Export runs (Shutdown interrupts an export that is waiting or
// retrying). ProtobufEncoder is not thread-safe (one per thread). The free
// functions are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otelweb/trace/span_exporter.h"
#include "otelweb/trace/span_data.h"

namespace otelweb::otlp {

// The signal an OTLP export carries. Each has its own variables
// (OTEL_EXPORTER_OTLP_TRACES_*, ..._METRICS_*, ..._LOGS_*), HTTP path
// (v1/traces, v1/metrics, v1/logs) and gRPC method
// (opentelemetry.proto.collector.{trace,metrics,logs}.v1.*Service/Export);
// everything else (transports, retry, compression, TLS) is shared.
enum class Signal : uint8_t { kTraces, kMetrics, kLogs };
std::string_view SignalName(Signal s) noexcept;      // "traces", "metrics", "logs"
std::string_view SignalHttpPath(Signal s) noexcept;  // "v1/traces", "v1/metrics", "v1/logs"
std::string_view SignalGrpcMethod(Signal s) noexcept;  // "/opentelemetry.proto.collector.trace.v1.TraceService/Export", ...

enum class Protocol : uint8_t { kGrpc, kHttpProtobuf, kHttpJson };
enum class Compression : uint8_t { kNone, kGzip };

std::string_view ProtocolName(Protocol p) noexcept;  // "grpc", "http/protobuf", "http/json"

using Headers = std::vector<std::pair<std::string, std::string>>;

// Code options, the same for every signal. Every unset field falls back to the
// environment variable named beside it (the signal's variable first, e.g.
// OTEL_EXPORTER_OTLP_TRACES_*, then the general OTEL_EXPORTER_OTLP_* one), then
// to the default. An environment value that
// does not parse gives one warning (through otelweb diagnostics) and the
// default.
struct OtlpExporterOptions {
  // ..._ENDPOINT. For HTTP the code value and the signal's variable are the
  // full URL, used as is; the general variable is a base URL to which the
  // signal's path ("v1/traces", "v1/metrics", "v1/logs") is appended. For gRPC only scheme, host and port are used; "host:port"
  // without a scheme is accepted (TLS unless `insecure`). Default
  // http://localhost:4318/v1/<signal> (HTTP) or http://localhost:4317 (gRPC).
  std::optional<std::string> endpoint{};
  // ..._PROTOCOL: "grpc", "http/protobuf" (default, as the spec says), "http/json".
  std::optional<Protocol> protocol{};
  // ..._HEADERS: "k1=v1,k2=v2", values percent-decoded. Sent with every
  // request (HTTP headers or gRPC metadata; keys are lowercased for gRPC).
  std::optional<Headers> headers{};
  // ..._TIMEOUT in milliseconds (default 10000): one deadline per batch,
  // covering every attempt and backoff.
  std::optional<std::chrono::milliseconds> timeout{};
  // ..._COMPRESSION: "gzip" or "none" (default).
  std::optional<Compression> compression{};
  // ..._INSECURE: for a gRPC endpoint without scheme, plaintext instead of TLS
  // (default false). A scheme in the endpoint always decides.
  std::optional<bool> insecure{};
  // ..._CERTIFICATE, ..._CLIENT_KEY, ..._CLIENT_CERTIFICATE: PEM file paths
  // (trusted CA; client key and certificate for mutual TLS). Default: the
  // system's trusted roots, no client certificate.
  std::optional<std::string> certificate_file{};
  std::optional<std::string> client_key_file{};
  std::optional<std::string> client_certificate_file{};
  // The largest export request sent, in bytes before compression; a larger
  // batch is split over several requests, and one item (span, data point, log
  // record) that alone is larger is dropped and counted, with a message.
  // Collectors' gRPC receivers refuse messages over 4 MiB by default, which
  // would lose the whole batch. Default: OTEL_CPP_EXPORTER_OTLP_MAX_REQUEST_BYTES
  // (every signal), else 3 MiB (3145728); at least 1024.
  std::optional<size_t> max_request_bytes{};

  // Retry (not configurable from the environment; the spec names no
  // variables). Attempt n waits min(initial * multiplier^(n-1), max) scaled by
  // a random factor in [0.5, 1.5), or what the server asked for (Retry-After,
  // gRPC RetryInfo), as long as the wait ends before the batch deadline.
  uint32_t max_attempts = 5;
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{5000};
  double backoff_multiplier = 1.5;

  // False: ignore OTEL_EXPORTER_OTLP_* (tests, or a program configured only in code).
  bool read_environment = true;
};

// Default of OtlpExporterOptions::max_request_bytes (3 MiB: under the 4 MiB
// message limit of gRPC receivers, with room for framing).
inline constexpr size_t kDefaultMaxRequestBytes = size_t{3} << 20;
inline constexpr size_t kMinMaxRequestBytes = 1024;
inline constexpr const char* kEnvMaxRequestBytes = "OTEL_CPP_EXPORTER_OTLP_MAX_REQUEST_BYTES";

// The options after code, environment and defaults are combined.
struct ResolvedOtlpOptions {
  Signal signal = Signal::kTraces;
  Protocol protocol = Protocol::kHttpProtobuf;
  // HTTP: the URL that is POSTed to. gRPC: the endpoint as configured.
  std::string url;
  // gRPC only: the "host:port" target and whether TLS is used.
  std::string grpc_target;
  bool use_tls = false;
  Headers headers;
  std::chrono::milliseconds timeout{10000};
  Compression compression = Compression::kNone;
  std::string certificate_file, client_key_file, client_certificate_file;
  size_t max_request_bytes = kDefaultMaxRequestBytes;
  uint32_t max_attempts = 5;
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{5000};
  double backoff_multiplier = 1.5;
};

// Resolves options for `signal` (reads the signal's and the general
// environment variables unless options.read_environment is false). Never
// throws on bad input: warnings and defaults.
ResolvedOtlpOptions ResolveOptions(const OtlpExporterOptions& options, Signal signal = Signal::kTraces);

// Parses an OTEL_EXPORTER_OTLP_HEADERS value. Entries are split on ',', keys
// and values trimmed and percent-decoded. Entries without '=', with an empty
// key or a bad escape are skipped and described in *errors.
Headers ParseHeaders(std::string_view text, std::vector<std::string>* errors = nullptr);

// Encodes ExportTraceServiceRequest protobuf bytes straight from span data.
// Spans are grouped by resource, then by instrumentation scope, in order of
// first appearance. Strings are made valid UTF-8 (AppendSanitizedUtf8).
class ProtobufEncoder {
 public:
  ProtobufEncoder();
  ~ProtobufEncoder();
  ProtobufEncoder(const ProtobufEncoder&) = delete;
  ProtobufEncoder& operator=(const ProtobufEncoder&) = delete;

  const std::string& Encode(std::span<const SpanData* const> spans);
  const std::string& Encode(std::span<const EndedSpan> spans);
  // The same bytes as Encode(), as a view valid until the next Encode*() call
  // or the encoder's destruction. Cheaper for repeated batches of varying
  // size: the buffer keeps the size of the largest message so far instead of
  // being cut (and zero-filled again when it grows). What OtlpSpanExporter
  // uses.
  std::string_view EncodeView(std::span<const SpanData* const> spans);
  std::string_view EncodeView(std::span<const EndedSpan> spans);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// OTLP/JSON (the spec's JSON mapping) of an ExportTraceServiceRequest, which
// has the same JSON form as a TracesData (the OTLP file exporter's lines).
// Takes the same input as ProtobufEncoder::Encode; grouped the same way.
std::string EncodeJson(std::span<const SpanData* const> spans);
std::string EncodeJson(std::span<const EndedSpan> spans);

// What an exporter did, since it was created.
struct OtlpExporterCounters {
  uint64_t spans_exported = 0;  // accepted by the receiver (minus partial rejections)
  uint64_t spans_rejected = 0;  // reported rejected by a partial_success answer
  uint64_t spans_dropped =
      0;                  // batches that failed for good (not retryable, out of time, shut down)
  uint64_t requests = 0;  // attempts sent (including retries)
  uint64_t retries = 0;   // attempts that were retries
  uint64_t batches_failed = 0;
};

class OtlpSpanExporter final : public SpanExporter {
 public:
  explicit OtlpSpanExporter(OtlpExporterOptions options = {});
  ~OtlpSpanExporter() override;
  ExportResult Export(std::span<EndedSpan> batch) noexcept override;
  OperationResult ForceFlush(std::chrono::milliseconds timeout) noexcept override;
  // Interrupts a running export (its batch is dropped and counted), waits for
  // it up to `timeout`; afterwards Export fails at once.
  OperationResult Shutdown(std::chrono::milliseconds timeout) noexcept override;
  std::string_view Name() const noexcept override;

  OtlpExporterCounters counters() const noexcept;
  const ResolvedOtlpOptions& options() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace otelweb::otlp
