// Test support for the logs signal and its bridges (logs, spdlog, glog tests).
//
//   MemoryLogs logs;                         // simple processor, in-memory exporter
//   MemoryLogs logs({.batch = true});        // batch processor
//   MemoryLogs logs({.exporter = std::move(my_exporter)});
//   ... logs.provider ... logs.exporter->records()
//
//   auto span_of = LogOnConcurrentRequests(tracer, 8, 25, [&](const std::string& id) { LOG(INFO) <<
//   id; });
//   // span_of["t-r"] == hex span id of request r on thread t, which was current while `log` ran
//
// Ownership: MemoryLogs owns its provider (shared, so bridges may hold it too); `exporter` points
// into it and is null when a custom exporter was given. Thread-safety: construct and destroy on one
// thread; the provider is safe to use from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "otelweb/logs/batch_log_record_processor.h"
#include "otelweb/logs/in_memory_exporter.h"
#include "otelweb/logs/logger_provider.h"
#include "otelweb/logs/simple_log_record_processor.h"
#include "otelweb/trace/span.h"

namespace otelweb::testing {

struct MemoryLogsOptions {
  bool batch = false;  // BatchLogRecordProcessor instead of the simple one
  logs::BatchLogRecordProcessorOptions batch_options{};  // with batch only
  logs::LoggerConfig config{};                           // for every scope
  std::string service_name;                              // empty: an empty resource
  std::unique_ptr<logs::LogRecordExporter> exporter;     // null: an InMemoryLogRecordExporter
};

struct MemoryLogs {
  explicit MemoryLogs(MemoryLogsOptions options = {}) {
    std::unique_ptr<logs::LogRecordExporter> e = std::move(options.exporter);
    if (!e) {
      auto m = std::make_unique<logs::InMemoryLogRecordExporter>();
      exporter = m.get();
      e = std::move(m);
    }
    logs::LoggerProviderOptions o;
    o.resource =
        options.service_name.empty()
            ? Resource()
            : Resource({{"service.name", OwnedValue(AttributeValue(options.service_name))}});
    o.configurator = [config = options.config](const InstrumentationScope&) { return config; };
    if (options.batch) {
      o.processors.push_back(
          std::make_unique<logs::BatchLogRecordProcessor>(std::move(e), options.batch_options));
    } else {
      o.processors.push_back(std::make_unique<logs::SimpleLogRecordProcessor>(std::move(e)));
    }
    provider = std::make_shared<logs::LoggerProvider>(std::move(o));
  }
  logs::InMemoryLogRecordExporter* exporter = nullptr;
  std::shared_ptr<logs::LoggerProvider> provider;
};

// Runs `threads` threads of `requests` "requests" each: every request starts a span, makes it
// current and calls log("t-r"). Returns, for each request id "t-r", the hex id of its span.
inline std::map<std::string, std::string> LogOnConcurrentRequests(
    Tracer tracer, int threads, int requests, const std::function<void(const std::string&)>& log) {
  std::mutex mu;
  std::map<std::string, std::string> span_of_request;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int r = 0; r < requests; ++r) {
        auto span = tracer.StartSpan("request");
        Scope s = MakeCurrent(span);
        const std::string id = std::to_string(t) + "-" + std::to_string(r);
        {
          std::lock_guard<std::mutex> lock(mu);
          span_of_request[id] = span.GetContext().span_id().ToHex();
        }
        log(id);
      }
    });
  }
  for (auto& th : pool) th.join();
  return span_of_request;
}

}  // namespace otelweb::testing
