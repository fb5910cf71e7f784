// The transports behind OtlpSpanExporter: one request, one answer, classified
// for the retry loop (which lives in the exporter).
//
// Ownership: a transport is owned by its exporter (ExportClient), and is
// destroyed only when no Send runs: the ExportClient is kept alive by the
// batch worker's shared state and the reader's shared worker until their
// threads have stopped. A transport need not (and the gRPC one cannot)
// survive destruction during Send. Thread-safety: Send is called by one
// thread at a time; Cancel may be called from any thread and makes a running
// (and any later) Send return promptly; a call that completed as Cancel came
// may still report its real outcome.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "otelweb/otlp/exporter.h"

namespace otelweb::otlp::internal {

using Clock = std::chrono::steady_clock;

struct SendResult {
  enum class Kind : uint8_t { kOk, kRetryable, kFatal };
  Kind kind = Kind::kFatal;
  // What the server asked for (Retry-After, gRPC RetryInfo).
  std::optional<std::chrono::milliseconds> retry_after;
  std::string error;     // for diagnostics
  std::string response;  // the answer body (ExportTraceServiceResponse, protobuf or JSON)
};

class Transport {
 public:
  virtual ~Transport() = default;
  // `body` is the encoded request (already gzipped for HTTP when `gzip`).
  virtual SendResult Send(std::string_view body, bool gzip,
                          Clock::time_point deadline) noexcept = 0;
  virtual void Cancel() noexcept = 0;
  // Closes connections; called after Cancel once no Send runs.
  virtual void Close() noexcept {}
};

// nullptr and *error set when the transport cannot be built (bad TLS files).
std::unique_ptr<Transport> MakeHttpTransport(const ResolvedOtlpOptions& o, std::string* error);
std::unique_ptr<Transport> MakeGrpcTransport(const ResolvedOtlpOptions& o, std::string* error);

// Reads a whole (small) file; false when it cannot be read.
bool ReadFile(const std::string& path, std::string* out);

// `url` for a log message: without user:password@ and without the query,
// either of which may hold a secret.
std::string UrlForLog(std::string_view url);

}  // namespace otelweb::otlp::internal
