// An asynchronous spdlog logger that keeps the trace context: the caller's
// span context is captured when log() is called and carried with the message
// to the worker thread, where the otelweb sink (otelweb/spdlog/sink.h) and the
// pattern flags (otelweb/spdlog/pattern.h) read it.
//
// Why: spdlog 1.10's async_logger is final, a message has no user slot and
// its thread pool runs the sinks on a worker thread with no span current, so
// a sink alone cannot know which request a line came from. Async users
// create their loggers here instead of with spdlog::create_async:
//
//   auto logger = otelweb::spdlog_bridge::MakeAsyncLogger("shop", {otelweb::spdlog_bridge::MakeSink(), stdout_sink});
//
// The returned logger is a plain spdlog::logger whose single sink queues the
// message (payload copied into a reused buffer, the context, the time, the
// thread id, the source location) into a bounded queue; one worker thread
// passes it to `sinks`. When the queue is full the message is dropped and
// counted (AsyncLoggerDropped), the caller never waits for the worker (a
// short lock guards the queue, as in spdlog's own async queue). flush() asks
// the worker to flush the sinks and does not wait.
//
// Ownership: the logger owns the queue and the worker; destroying the last
// reference drains the queue (up to drain_timeout) and joins the worker.
// Thread-safety: the logger may be used from any thread.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace otelweb::spdlog_bridge {

struct AsyncLoggerOptions {
  size_t queue_size = 8192;  // messages
  std::chrono::milliseconds drain_timeout{5000};
};

std::shared_ptr<::spdlog::logger> MakeAsyncLogger(std::string name, std::vector<::spdlog::sink_ptr> sinks,
                                                  AsyncLoggerOptions options = {});
// Messages dropped because the logger's queue was full (0 for other loggers).
uint64_t AsyncLoggerDropped(const ::spdlog::logger& logger) noexcept;

}  // namespace otelweb::spdlog_bridge
