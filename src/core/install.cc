// InstallTracing: the one-call setup.
#include <map>
#include <mutex>

#include "core/config.h"
#include "otelweb/trace/console_exporter.h"
#include "otelweb/otelweb.h"

// Defined by the OTLP library (otelweb_otlp), which also forces the linker
// to keep it (-Wl,--undefined=...): when present, InstallTracing can build
// "otlp" exporters without the program naming the OTLP library in code.
extern "C" __attribute__((weak)) void otelweb_register_builtin_exporters();

namespace otelweb {

namespace {

struct FactoryRegistry {
  std::mutex mu;
  std::map<std::string, ExporterFactory, std::less<>> factories;
};

FactoryRegistry& Factories() {
  static FactoryRegistry* r = [] {
    auto* reg = new FactoryRegistry;
    reg->factories["console"] = [] { return std::make_unique<ConsoleSpanExporter>(); };
    return reg;
  }();
  return *r;
}

std::unique_ptr<SpanExporter> MakeNamed(const std::string& name) {
  ExporterFactory f;
  {
    std::lock_guard<std::mutex> lock(Factories().mu);
    auto it = Factories().factories.find(name);
    if (it != Factories().factories.end()) f = it->second;
  }
  if (!f) {
    if (name == "otlp") {
      Log(LogLevel::kWarning,
          "OTEL_TRACES_EXPORTER=otlp but the OTLP exporter is not linked in: link otelweb::otelweb "
          "(or otelweb::otlp and call otelweb::otlp::RegisterExporter()); using the console exporter");
      return std::make_unique<ConsoleSpanExporter>();
    }
    Log(LogLevel::kWarning, "unknown exporter '" + name +
                                "' in OTEL_TRACES_EXPORTER (known: otlp, console, none); ignored");
    return nullptr;
  }
  try {
    return f();
  } catch (const std::exception& e) {
    Log(LogLevel::kError, "exporter '" + name + "' could not be created: " + e.what());
  } catch (...) {
    Log(LogLevel::kError, "exporter '" + name + "' could not be created");
  }
  return nullptr;
}

}  // namespace

void RegisterExporterFactory(std::string name, ExporterFactory factory) {
  std::lock_guard<std::mutex> lock(Factories().mu);
  Factories().factories[std::move(name)] = std::move(factory);
}

TracingHandle& TracingHandle::operator=(TracingHandle&& o) noexcept {
  if (this != &o) {
    Shutdown();
    provider_ = std::move(o.provider_);
    timeout_ = o.timeout_;
  }
  return *this;
}

TracingHandle::~TracingHandle() { Shutdown(); }

OperationResult TracingHandle::Shutdown() noexcept {
  if (!provider_) return OperationResult::AlreadyShutDown();
  std::shared_ptr<TracerProvider> p = std::move(provider_);
  if (GetTracerProvider() == p) SetTracerProvider(nullptr);
  if (p == TracerProvider::NoOp()) return OperationResult::Ok();
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  OperationResult r = p->ForceFlush(timeout_);
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return r.Merge(p->Shutdown(std::max(left, std::chrono::milliseconds(0))));
}

TracingHandle InstallTracing(TracingOptions options) {
  TracingHandle handle;
  handle.timeout_ = options.shutdown_timeout;

  std::string propagators = options.propagators;
  if (propagators.empty()) propagators = config::GetString("OTEL_PROPAGATORS").value_or("");
  SetTextMapPropagator(MakePropagators(propagators));

  bool disabled = options.disabled.value_or(config::GetBool("OTEL_SDK_DISABLED").value_or(false));
  if (disabled) {
    handle.provider_ = TracerProvider::NoOp();
    SetTracerProvider(handle.provider_);
    return handle;
  }

  TracerProviderOptions po;
  std::vector<OwnedKeyValue> attrs = options.resource_attributes;
  if (!options.service_name.empty()) {
    OwnedKeyValue kv;
    kv.key = "service.name";
    kv.value = OwnedValue(AttributeValue(options.service_name));
    attrs.push_back(std::move(kv));
  }
  po.resource = Resource::Create(attrs);
  po.sampler = options.sampler;
  po.limits = options.limits;

  std::vector<std::unique_ptr<SpanExporter>> exporters;
  if (options.exporter) {
    exporters.push_back(std::move(options.exporter));
  } else {
    if (otelweb_register_builtin_exporters != nullptr) otelweb_register_builtin_exporters();
    std::string names = options.exporter_name;
    if (names.empty()) names = config::GetString("OTEL_TRACES_EXPORTER").value_or("");
    if (names.empty()) {
      // Not configured: OTLP when an endpoint is configured, else the terminal.
      bool endpoint = config::GetString("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").has_value() ||
                      config::GetString("OTEL_EXPORTER_OTLP_ENDPOINT").has_value();
      names = endpoint ? "otlp" : "console";
    }
    for (const std::string& n : config::SplitList(names)) {
      if (n == "none") continue;
      if (auto e = MakeNamed(n)) exporters.push_back(std::move(e));
    }
  }
  for (auto& e : exporters) {
    if (options.simple_processor) {
      po.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::move(e)));
    } else {
      po.processors.push_back(std::make_unique<BatchSpanProcessor>(std::move(e), options.batch));
    }
  }
  handle.provider_ = std::make_shared<TracerProvider>(std::move(po));
  SetTracerProvider(handle.provider_);
  return handle;
}

}  // namespace otelweb
