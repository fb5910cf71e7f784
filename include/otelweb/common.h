// Basic vocabulary shared by every otelweb header: time, results, versions.
//
// Thread-safety: every type here is a plain value type; distinct objects may be
// used from distinct threads freely.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace otelweb {

inline constexpr std::string_view kVersion = "0.1.0";

// Wall-clock time in nanoseconds since the Unix epoch, as OTLP carries it.
using Timestamp = std::chrono::time_point<std::chrono::system_clock, std::chrono::nanoseconds>;

// Reads the wall clock (one vDSO call, no syscall on Linux).
Timestamp Now() noexcept;

// The outcome of ForceFlush / Shutdown. Never a bare bool: a caller can tell a
// deadline that ran out from a component that failed or was already shut down.
class OperationResult {
 public:
  enum class Code : uint8_t { kOk, kTimeout, kFailure, kAlreadyShutDown };

  constexpr OperationResult() noexcept = default;
  constexpr OperationResult(Code code) noexcept : code_(code) {}  // NOLINT: implicit by design

  static constexpr OperationResult Ok() noexcept { return {Code::kOk}; }
  static constexpr OperationResult Timeout() noexcept { return {Code::kTimeout}; }
  static constexpr OperationResult Failure() noexcept { return {Code::kFailure}; }
  static constexpr OperationResult AlreadyShutDown() noexcept { return {Code::kAlreadyShutDown}; }

  constexpr bool ok() const noexcept { return code_ == Code::kOk; }
  constexpr Code code() const noexcept { return code_; }
  std::string_view ToString() const noexcept;

  // Combines two results: the worse one wins (failure > timeout > shut down > ok).
  OperationResult Merge(OperationResult other) const noexcept;

  friend constexpr bool operator==(OperationResult a, OperationResult b) noexcept {
    return a.code_ == b.code_;
  }

 private:
  Code code_ = Code::kOk;
};

// Default deadline for ForceFlush / Shutdown when the caller gives none (the
// spec's export timeout).
inline constexpr std::chrono::milliseconds kDefaultFlushTimeout{30000};

// The deadline model, for every signal (docs/configuration.md, "Deadlines"):
// - each export is bounded by its exporter's timeout (OTLP:
//   OTEL_EXPORTER_OTLP_TIMEOUT, 10 s; 0 = no limit per export);
// - a processor's flush/shutdown deadline is the timeout passed to it, else
//   its export timeout (OTEL_BSP_EXPORT_TIMEOUT, 30 s; 0 = no limit);
// - the Install/InstallTracing handle flushes and shuts down within
//   shutdown_timeout if set in code, else traces.batch.export_timeout, else
//   OTEL_BSP_EXPORT_TIMEOUT if set,
//   else 5 s; 0 = no limit;
// - "no limit" and any longer value are capped at kShutdownCeiling, so that a
//   process always exits, even with a collector that never answers. What is
//   not exported by the deadline is counted (ProcessorCounters::dropped_deadline).
inline constexpr std::chrono::milliseconds kShutdownCeiling{60000};
// A configured flush/shutdown timeout as it is applied: 0 (no limit) and
// anything longer become kShutdownCeiling.
constexpr std::chrono::milliseconds EffectiveShutdownTimeout(std::chrono::milliseconds configured) noexcept {
  return configured.count() <= 0 || configured > kShutdownCeiling ? kShutdownCeiling : configured;
}

}  // namespace otelweb
