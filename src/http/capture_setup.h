// Private to otelweb_http: the header-capture set-up both instrumenters share.
#pragma once

#include "otelweb/http/headers.h"
#include "otelweb/http/settings.h"

namespace otelweb::http::internal {

// Compiles settings' capture and sanitize lists (the code value, else the
// given environment variables, else nothing) into the request and response
// captures (http.request.header.* / http.response.header.*).
void SetUpHeaderCapture(const Settings& settings, const char* request_env,
                        const char* response_env, HeaderCapture* request,
                        HeaderCapture* response);

}  // namespace otelweb::http::internal
