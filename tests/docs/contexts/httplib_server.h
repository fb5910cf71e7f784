// Context of the cpp-httplib server fragments (docs/httplib.md): a traced
// server `svr` and the options the text talks about.
#pragma once

#include "default.h"

extern otelweb::httplib::TracedServer svr;
extern otelweb::httplib::ServerOptions new_options;
