// Graceful stop on SIGTERM / SIGINT: the one-line opt-in that keeps the last
// spans of a server that is stopped (docker stop, systemd, Ctrl-C).
//
//   auto tracing = otelweb::InstallTracing({.service_name = "my-service"});
//   otelweb::StopGracefullyOnSignals([&] { server.stop(); });  // listen() returns
//   server.listen("0.0.0.0", 8080);
//   // main returns: `tracing` flushes and shuts down within its deadline
//
// Without it, the default action of SIGTERM/SIGINT kills the process before
// anything is flushed, silently.
//
// What happens on the first SIGTERM or SIGINT: the signal handler only wakes
// a helper thread (async-signal-safe) and calls a handler the application had
// installed before (chaining; SIG_IGN and SIG_DFL are not called). The helper
// thread then calls `stop` (make the app's main loop return, so that its
// handles shut down normally). Without `stop`, it flushes the global tracer
// provider within `flush_timeout` and then applies the signal's previous
// action (the default one terminates the process, as before, but after the
// flush). A second signal while stopping takes the previous action at once
// (an impatient Ctrl-C still works).
//
// Ownership: process-wide; the helper thread lives until the process exits.
// Thread-safety: call once, from main, after installing telemetry; a second
// call replaces `stop` and keeps the handlers.
// Errors: if the handlers cannot be installed, one warning says why; nothing
// else changes.
#pragma once

#include <chrono>
#include <functional>

namespace otelweb {

// `flush_timeout`: the deadline of the flush when there is no `stop`
// callback (see the deadline model in otelweb/common.h).
void StopGracefullyOnSignals(std::function<void()> stop = {},
                             std::chrono::milliseconds flush_timeout = std::chrono::milliseconds(5000));

}  // namespace otelweb
