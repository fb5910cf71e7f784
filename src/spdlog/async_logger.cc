// MakeAsyncLogger: a plain spdlog::logger whose one sink queues messages with
// the caller's span context for a worker that runs the real sinks.
#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/sink.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/internal.h"
#include "otelweb/diagnostics.h"
#include "otelweb/logs/logger.h"
#include "otelweb/spdlog/async.h"
#include "spdlog/carried_context.h"

namespace otelweb::spdlog_bridge {

namespace {

class AsyncDispatchSink final : public ::spdlog::sinks::sink {
 public:
  AsyncDispatchSink(std::vector<::spdlog::sink_ptr> sinks, AsyncLoggerOptions o)
      : sinks_(std::move(sinks)), opt_(o), slots_(std::max<size_t>(o.queue_size, 1)) {
    worker_ = std::thread([this] { Run(); });
  }

  ~AsyncDispatchSink() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      deadline_ = std::chrono::steady_clock::now() + opt_.drain_timeout;
    }
    cv_.notify_all();
    worker_.join();
  }

  void log(const ::spdlog::details::log_msg& msg) override {
    const SpanContext& sc = internal::EffectiveSpanContext();
    // Logged from inside the log pipeline (an Emit, an exporter, the batch
    // worker): text sinks still get it, log records are not made of it, or a
    // failing exporter's message would travel round the queue for ever.
    const bool from_pipeline = logs::EmitInProgressOnThisThread();
    std::unique_lock<std::mutex> lock(mu_);
    if (count_ == slots_.size() || stop_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    Slot& s = slots_[(head_ + count_) % slots_.size()];
    s.flush = false;
    s.from_pipeline = from_pipeline;
    s.trace_id = sc.trace_id();
    s.span_id = sc.span_id();
    s.flags = sc.flags();
    s.level = msg.level;
    s.time = msg.time;
    s.source = msg.source;
    s.thread_id = msg.thread_id;
    // assign() reuses the strings' capacity: no allocation once warmed up.
    s.name.assign(msg.logger_name.data(), msg.logger_name.size());
    s.payload.assign(msg.payload.data(), msg.payload.size());
    ++count_;
    const bool wake = waiting_;
    lock.unlock();
    if (wake) cv_.notify_one();
  }

  void flush() override {
    std::unique_lock<std::mutex> lock(mu_);
    if (count_ == slots_.size() || stop_) return;
    slots_[(head_ + count_) % slots_.size()].flush = true;
    ++count_;
    const bool wake = waiting_;
    lock.unlock();
    if (wake) cv_.notify_one();
  }

  void set_pattern(const std::string& pattern) override {
    for (auto& s : sinks_) s->set_pattern(pattern);
  }
  void set_formatter(std::unique_ptr<::spdlog::formatter> f) override {
    for (auto& s : sinks_) s->set_formatter(f->clone());
  }

  uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    bool flush = false;
    bool from_pipeline = false;
    TraceId trace_id;
    SpanId span_id;
    TraceFlags flags;
    ::spdlog::level::level_enum level = ::spdlog::level::info;
    ::spdlog::log_clock::time_point time;
    ::spdlog::source_loc source;
    size_t thread_id = 0;
    std::string name, payload;
  };

  void Dispatch(const Slot& s) {
    if (s.flush) {
      for (auto& k : sinks_) {
        try {
          k->flush();
        } catch (...) {
        }
      }
      return;
    }
    std::optional<logs::SuppressLogEmitScope> no_emit;
    if (s.from_pipeline) no_emit.emplace();
    const SpanContext sc(s.trace_id, s.span_id, s.flags, false);
    internal::SetCarriedSpanContext(&sc);
    ::spdlog::details::log_msg m(s.time, s.source, ::spdlog::string_view_t(s.name.data(), s.name.size()), s.level,
                                 ::spdlog::string_view_t(s.payload.data(), s.payload.size()));
    m.thread_id = s.thread_id;
    for (auto& k : sinks_) {
      if (!k->should_log(m.level)) continue;
      try {
        k->log(m);
      } catch (const std::exception& e) {
        LogOnce(warned_, LogLevel::kError,
                std::string("an spdlog sink threw from the otelweb async logger's worker: ") + e.what() +
                    " (the message is lost for that sink; check the sink)");
      } catch (...) {
        LogOnce(warned_, LogLevel::kError, "an spdlog sink threw from the otelweb async logger's worker");
      }
    }
    internal::SetCarriedSpanContext(nullptr);
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      while (count_ == 0 && !stop_) {
        waiting_ = true;
        cv_.wait(lock);
        waiting_ = false;
      }
      if (count_ == 0) return;  // stopping and drained
      if (stop_ && std::chrono::steady_clock::now() > deadline_) {
        dropped_.fetch_add(count_, std::memory_order_relaxed);
        return;
      }
      Slot& s = slots_[head_];
      lock.unlock();
      Dispatch(s);  // the producers never touch a slot that is counted
      lock.lock();
      head_ = (head_ + 1) % slots_.size();
      --count_;
    }
  }

  std::vector<::spdlog::sink_ptr> sinks_;
  AsyncLoggerOptions opt_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Slot> slots_;
  size_t head_ = 0, count_ = 0;
  bool waiting_ = false, stop_ = false;
  std::chrono::steady_clock::time_point deadline_{};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<bool> warned_{false};
  std::thread worker_;
};

}  // namespace

std::shared_ptr<::spdlog::logger> MakeAsyncLogger(std::string name, std::vector<::spdlog::sink_ptr> sinks,
                                                  AsyncLoggerOptions options) {
  auto sink = std::make_shared<AsyncDispatchSink>(std::move(sinks), options);
  return std::make_shared<::spdlog::logger>(std::move(name), std::move(sink));
}

uint64_t AsyncLoggerDropped(const ::spdlog::logger& logger) noexcept {
  uint64_t n = 0;
  for (const auto& s : const_cast<::spdlog::logger&>(logger).sinks()) {
    if (auto* a = dynamic_cast<const AsyncDispatchSink*>(s.get())) n += a->dropped();
  }
  return n;
}

}  // namespace otelweb::spdlog_bridge
