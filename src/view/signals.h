// otelweb-view's API over the stored logs and metric points and the service
// map (issue 16; docs/view.md "Logs, metrics and the service map"):
//   GET /api/logs?service=&severity=&text=&traceId=&spanId=&start=&end=&limit=
//   GET /api/traces/<traceId>/logs       (every record of one trace, oldest first)
//   GET /api/service-map?start=&end=&limit=
//   GET /api/metrics                     (the instruments)
//   GET /api/metrics/series?name=&service=&start=&end=&step=
// The queries read the Store's tables through Store::Read; the answers are
// JSON with the conventions of docs/view.md (times as decimal strings of
// nanoseconds, ids as lower-case hex).
//
// Ownership: RegisterSignalsApi adds handlers holding `store`, which must
// outlive the server. Thread-safety: the handlers run on any server thread.
#pragma once

#include <httplib.h>

#include "view/store.h"

namespace otelweb::view {

// Registers the handlers above on `server` (before its catch-all /api route).
void RegisterSignalsApi(httplib::Server& server, Store* store);

}  // namespace otelweb::view
