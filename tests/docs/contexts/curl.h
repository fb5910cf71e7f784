// Context of the libcurl fragments (docs/clients.md): what the text around
// them calls your own headers, callback and transfers.
#pragma once

#include "default.h"

extern curl_slist* my_headers;
size_t on_data(char* data, size_t size, size_t count, void* user);
extern otelweb::curl::Easy easy_a;
extern otelweb::curl::Easy easy_b;
