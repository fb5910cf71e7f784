// Must NOT compile with -Werror: each call drops the handle that keeps
// telemetry running (tests/compile/nodiscard.sh checks the messages).
#include <otelweb/otelweb.h>

void DropsTheTracingHandle() { otelweb::InstallTracing({.service_name = "dropped"}); }

void DropsTheTelemetryHandle() { otelweb::Install({.service_name = "dropped"}); }
