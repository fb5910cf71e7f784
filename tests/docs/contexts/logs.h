// Context of the docs/logs.md fragments: the logs SDK, the spdlog bridge and
// the spdlog sinks the guide uses.
#pragma once

#include <otelweb/logs/batch_log_record_processor.h>
#include <otelweb/logs/logger_provider.h>
#include <otelweb/logs/trace_fields.h>
#include <otelweb/otelweb.h>
#include <otelweb/otlp/log_exporter.h>
#include <otelweb/spdlog/async.h>
#include <otelweb/spdlog/pattern.h>
#include <otelweb/spdlog/sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
