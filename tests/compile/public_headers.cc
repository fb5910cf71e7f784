// Every public header (new paths) in one translation unit, compiled with the
// project: they must stand together, and none may pull in <regex> (a heavy
// header every adapter user would pay for; compiled patterns live behind
// http::internal::CompiledPattern). The cpp-httplib adapter headers are left
// out because cpp-httplib itself includes <regex>.
#include <otelweb/attribute.h>
#include <otelweb/baggage.h>
#include <otelweb/civetweb/server.h>
#include <otelweb/common.h>
#include <otelweb/context.h>
#include <otelweb/curl/curl.h>
#include <otelweb/diagnostics.h>
#include <otelweb/http/attributes.h>
#include <otelweb/http/client.h>
#include <otelweb/http/headers.h>
#include <otelweb/http/instrumenter_base.h>
#include <otelweb/http/labeler.h>
#include <otelweb/http/server.h>
#include <otelweb/http/settings.h>
#include <otelweb/http/url.h>
#include <otelweb/graceful_stop.h>
#include <otelweb/instrumentation.h>
#include <otelweb/metrics/exporters.h>
#include <otelweb/metrics/instruments.h>
#include <otelweb/metrics/meter_provider.h>
#include <otelweb/metrics/metric_data.h>
#include <otelweb/metrics/metric_reader.h>
#include <otelweb/processor_counters.h>
#include <otelweb/microhttpd/server.h>
#include <otelweb/logs/batch_log_record_processor.h>
#include <otelweb/logs/console_exporter.h>
#include <otelweb/logs/console_join.h>
#include <otelweb/logs/in_memory_exporter.h>
#include <otelweb/logs/log_record.h>
#include <otelweb/logs/log_record_exporter.h>
#include <otelweb/logs/log_record_processor.h>
#include <otelweb/logs/logger.h>
#include <otelweb/logs/logger_provider.h>
#include <otelweb/logs/simple_log_record_processor.h>
#include <otelweb/logs/trace_fields.h>
#include <otelweb/otelweb.h>
#include <otelweb/otlp/exporter.h>
#include <otelweb/otlp/file_exporter.h>
#include <otelweb/otlp/log_exporter.h>
#ifdef OTELWEB_CHECK_GRPC
#include <otelweb/grpc/client.h>
#include <otelweb/grpc/server.h>
#include <otelweb/grpc/settings.h>
#endif
#ifdef OTELWEB_CHECK_SPDLOG
#include <otelweb/spdlog/async.h>
#include <otelweb/spdlog/pattern.h>
#include <otelweb/spdlog/sink.h>
#endif
#ifdef OTELWEB_CHECK_GLOG
#include <otelweb/glog/sink.h>
#endif
#include <otelweb/propagation.h>
#include <otelweb/resource.h>
#include <otelweb/semconv.h>
#include <otelweb/sqlite/sqlite.h>
#include <otelweb/testing/diagnostics_capture.h>
#include <otelweb/testing/in_memory_exporter.h>
#include <otelweb/testing/installed_tracing.h>
#include <otelweb/testing/memory_tracing.h>
#include <otelweb/testing/scoped_env.h>
#include <otelweb/testing/span_readers.h>
#include <otelweb/testing/span_stub.h>
#include <otelweb/trace/batch_span_processor.h>
#include <otelweb/trace/console_exporter.h>
#include <otelweb/trace/id_generator.h>
#include <otelweb/trace/sampler.h>
#include <otelweb/trace/simple_span_processor.h>
#include <otelweb/trace/span.h>
#include <otelweb/trace/span_context.h>
#include <otelweb/trace/span_data.h>
#include <otelweb/trace/span_exporter.h>
#include <otelweb/trace/span_limits.h>
#include <otelweb/trace/span_processor.h>
#include <otelweb/trace/tracer.h>
#include <otelweb/trace/tracer_provider.h>

#ifdef _GLIBCXX_REGEX
#error "a public otelweb header includes <regex>: move the std::regex behind a private type"
#endif

int otelweb_public_headers_compile() { return 0; }
