// The signal-neutral half of every OTLP exporter: sends an already-encoded
// export request (ExportTraceServiceRequest, ExportMetricsServiceRequest or
// ExportLogsServiceRequest bytes, protobuf or JSON as the options say) for one
// Signal over gRPC or HTTP, with gzip, one deadline per request covering every
// attempt, retry with exponential backoff and jitter (or the server's
// Retry-After / RetryInfo), partial-success answers, counters and
// rate-limited failure messages. OtlpSpanExporter uses it today; the metrics
// and logs exporters encode their data and call the same Send.
//
// Ownership: owns the transport (a libcurl handle or a gRPC channel) and its
// compression buffer.
// Thread-safety: Send is called by one thread at a time (the exporter's
// Export); Shutdown, ForceFlush and counters() may be called from any thread,
// also while Send runs (Shutdown interrupts a send that is waiting or
// retrying).
#pragma once

#include <zlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "otelweb/otlp/exporter.h"
#include "core/fork.h"
#include "otlp/transport.h"

namespace otelweb::otlp::internal {

// Counts in the signal's items (spans, metric data points, log records).
struct ExportClientCounters {
  uint64_t items_exported = 0;  // accepted by the receiver (minus partial rejections)
  uint64_t items_rejected = 0;  // reported rejected by a partial_success answer
  uint64_t items_dropped = 0;   // in requests that failed for good, or refused after shutdown
  uint64_t requests = 0;        // attempts sent (including retries)
  uint64_t retries = 0;
  uint64_t batches_failed = 0;
};

class ExportClient final : public otelweb::internal::ForkAware {
 public:
  // Builds the transport for options.protocol; a transport that cannot be
  // built (e.g. unreadable TLS files) is reported once, and every Send then
  // fails with that reason.
  explicit ExportClient(ResolvedOtlpOptions options);
  ~ExportClient();
  ExportClient(const ExportClient&) = delete;
  ExportClient& operator=(const ExportClient&) = delete;

  // False after Shutdown: the caller's `items` are counted dropped, and it
  // need not encode them.
  bool Accepting(size_t items) noexcept;
  // Sends `body` (the encoded request, not compressed) holding `items` items.
  ExportResult Send(std::string_view body, size_t items) noexcept;
  // Counts `items` dropped for `why` (e.g. an exception while encoding) and
  // reports it like a failed send.
  void Fail(size_t items, const std::string& why) noexcept;

  // Waits for a running Send (nothing is buffered here).
  OperationResult ForceFlush(std::chrono::milliseconds timeout) noexcept;
  // Interrupts a running Send (its items are dropped and counted) and waits
  // for it up to `timeout`; afterwards Send fails at once.
  OperationResult Shutdown(std::chrono::milliseconds timeout) noexcept;

  ExportClientCounters counters() const noexcept;
  // fork(): in the child, a new transport (a gRPC channel or a libcurl
  // connection does not survive a fork; the parent's is forgotten, never
  // closed from the child), new locks, counters from zero. Called by the
  // fork registry (core/fork.h) in the child's only thread.
  void AfterForkInChild() noexcept override;
  const ResolvedOtlpOptions& options() const noexcept { return o_; }
  // The exporter name by protocol ("otlp-grpc", "otlp-http-protobuf",
  // "otlp-http-json"), for every signal's SpanExporter-style Name().
  std::string_view ExporterName() const noexcept;

  // Runs an exporter's Export body; an exception it throws drops its `items`
  // (counted and reported like a failed send) instead of leaving the exporter.
  template <typename F>
  ExportResult Guarded(size_t items, F&& export_body) noexcept {
    try {
      return std::forward<F>(export_body)();
    } catch (const std::exception& e) {
      Fail(items, std::string("exception: ") + e.what());
    } catch (...) {
      Fail(items, "unknown exception");
    }
    return ExportResult::kFailure;
  }

  // Encodes `items` with `encode` (a callable taking std::span<const T> and
  // returning the request bytes, valid until its next call) and sends them,
  // split over several requests when the encoded request is larger than
  // options().max_request_bytes: each half is encoded and sent in turn. An
  // item that alone is over the maximum is dropped and counted (Fail), with
  // a message naming the setting. kSuccess only when every part was sent.
  // Encoding work grows by a factor of log2(parts) for oversized batches only.
  template <typename T, typename Encode>
  ExportResult SendInParts(std::span<const T> items, Encode&& encode) {
    if (items.empty()) return ExportResult::kSuccess;
    const std::string_view body = encode(items);
    if (body.size() <= o_.max_request_bytes) return Send(body, items.size());
    if (items.size() == 1) {
      FailOversized(body.size());
      return ExportResult::kFailure;
    }
    const size_t half = items.size() / 2;
    const ExportResult first = SendInParts(items.first(half), encode);
    const ExportResult second = SendInParts(items.subspan(half), encode);
    return first == ExportResult::kSuccess && second == ExportResult::kSuccess ? ExportResult::kSuccess
                                                                               : ExportResult::kFailure;
  }

 private:
  void FailOversized(size_t bytes) noexcept;
  void BuildTransport() noexcept;
  ExportResult SendLocked(std::string_view body, size_t items);
  bool Gzip(std::string_view in);
  std::chrono::milliseconds Backoff(uint32_t retry);

  ResolvedOtlpOptions o_;
  std::string_view noun_;  // "spans", "data points", "log records"
  std::unique_ptr<Transport> transport_;
  std::string init_error_;
  std::string gz_;
  z_stream z_{};
  bool z_ready_ = false;
  std::mt19937_64 rng_{std::random_device{}()};

  std::mutex mu_;
  std::condition_variable cv_;
  bool shut_down_ = false;
  bool busy_ = false;

  std::atomic<uint64_t> exported_{0}, rejected_{0}, dropped_{0}, requests_{0}, retries_{0}, failed_{0};

  // One error line per failed request would flood the log while a collector
  // is down: the first failure is logged, then at most one line per
  // kFailLogInterval summing up what was dropped since (counters hold all).
  static constexpr std::chrono::seconds kFailLogInterval{30};
  std::mutex fail_mu_;
  Clock::time_point last_fail_log_{};
  uint64_t unlogged_batches_ = 0, unlogged_items_ = 0;
};

}  // namespace otelweb::otlp::internal
