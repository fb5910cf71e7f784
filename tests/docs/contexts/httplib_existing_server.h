// Context of docs/httplib.md's "An existing httplib::Server": a framework
// that owns the server, options, a handler and your own hooks.
#pragma once

#include "default.h"

struct Framework {
  httplib::Server& server();
};
extern Framework framework;
extern otelweb::httplib::ServerOptions options;
void handler(const httplib::Request& req, httplib::Response& res);
httplib::Server::HandlerResponse my_pre_routing(const httplib::Request& req,
                                                httplib::Response& res);
void my_logger(const httplib::Request& req, const httplib::Response& res);
