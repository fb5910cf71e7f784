// DiagnosticsCapture: records the SDK's own messages (otelweb/diagnostics.h)
// while it is alive, for tests that assert a warning was (or was not) given.
//
//   otelweb::testing::DiagnosticsCapture diag(otelweb::LogLevel::kWarning);
//   ... configure something wrong ...
//   EXPECT_EQ(diag.Count("OTEL_BSP_MAX_QUEUE_SIZE"), 1u);
//
// It installs its own sink and sets the log level to `min_level` (so the
// capture does not depend on OTEL_LOG_LEVEL); the destructor puts the
// previous sink and level back. Messages below `min_level` are not recorded.
//
// Ownership: the recorded messages are owned by the capture; the sink shares
// them, so a message reported on another thread while the capture is being
// destroyed is safe (it is dropped).
// Thread-safety: construct and destroy on one thread, last-in first-out with
// other code that replaces the sink; the readers may be called from any
// thread while other threads report.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "otelweb/diagnostics.h"

namespace otelweb::testing {

class DiagnosticsCapture {
 public:
  struct Message {
    LogLevel level = LogLevel::kInfo;
    std::string text{};
  };

  explicit DiagnosticsCapture(LogLevel min_level = LogLevel::kInfo);
  ~DiagnosticsCapture();
  DiagnosticsCapture(const DiagnosticsCapture&) = delete;
  DiagnosticsCapture& operator=(const DiagnosticsCapture&) = delete;

  // Every recorded message, in the order reported.
  std::vector<Message> entries() const;
  // Their texts only.
  std::vector<std::string> messages() const;
  // Number of recorded messages.
  size_t size() const;
  // Number of recorded messages containing `needle`.
  size_t Count(std::string_view needle) const;
  // All texts, one per line (handy in a failure message).
  std::string text() const;
  void Clear();

 private:
  struct State;
  std::shared_ptr<State> state_;
  DiagnosticsSink previous_sink_;
  LogLevel previous_level_;
};

}  // namespace otelweb::testing
