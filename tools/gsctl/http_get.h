// A blocking HTTP/1.1 GET to the station's web endpoint, for the subcommands that read it
// (gsctl products) and the benchmark. Not thread-safe per call's state; calls are independent.
#pragma once

#include <chrono>
#include <string>

#include "protocol/status.h"

namespace lgs::gsctl {

struct HttpAnswer {
  unsigned status = 0;
  std::string content_type, body;
};

// GET `target` ("/api/products") from `base` ("http://127.0.0.1:8080" or "127.0.0.1:8080"),
// with `token` as a bearer token when not empty. An error says why there is no answer (bad
// URL, refused, timed out, an answer over `max_body` octets).
[[nodiscard]] Result<HttpAnswer> HttpGet(
    const std::string& base, const std::string& target, const std::string& token = "",
    std::chrono::milliseconds timeout = std::chrono::seconds(10), size_t max_body = 256u << 20);

}  // namespace lgs::gsctl
