// A blocking HTTP/1.1 GET to a station's web endpoint on loopback (Boost.Beast), for the tests
// that read its API. Not thread-safe per call; calls are independent.
#pragma once

#include <boost/beast/http/field.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace lgs::test {

struct Reply {
  unsigned status = 0;  // 0: no answer (refused, closed)
  std::string body;
  std::map<std::string, std::string> headers;
};

Reply Get(int port, const std::string& target,
          const std::vector<std::pair<boost::beast::http::field, std::string>>& headers = {});

}  // namespace lgs::test
