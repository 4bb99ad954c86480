// gsctl products: the running station's file transfers and product archive, over its web
// endpoint (/api/products), and `get` to fetch one file, kept or still arriving.
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "http_get.h"
#include "protocol/regular_file.h"

namespace lgs::gsctl {
namespace {

using nlohmann::json;

std::string Octets(double n) {
  if (n >= 1e6) return fmt::format("{:.2f} MB", n / 1e6);
  if (n >= 1e3) return fmt::format("{:.1f} kB", n / 1e3);
  return fmt::format("{:.0f} B", n);
}

std::string Duration(double s) {
  if (s >= 3600) return fmt::format("{:.0f} h {:02.0f} m", s / 3600, std::fmod(s, 3600) / 60);
  if (s >= 60) return fmt::format("{:.0f} m {:02.0f} s", std::floor(s / 60), std::fmod(s, 60));
  return fmt::format("{:.0f} s", s);
}

Result<std::string> TokenOf(const ProductsOptions& o) {
  if (o.token_path.empty()) return std::string();
  auto token = protocol::ReadRegularFile(o.token_path, "HTTP token", 4096);
  if (!token.ok()) return token.error();
  std::string t = *token;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  return t;
}

// The answer's body, or a message (the station's {"error": ...} when it gave one) and exit code.
Result<HttpAnswer> Get(const ProductsOptions& o, const std::string& target) {
  auto token = TokenOf(o);
  if (!token.ok()) return token.error();
  auto answer = HttpGet(o.url, target, *token,
                        std::chrono::milliseconds(static_cast<int64_t>(o.timeout_s * 1000)));
  if (!answer.ok()) return answer.error();
  if (answer->status != 200) {
    const json e = json::parse(answer->body, nullptr, false);
    return Status::Error(fmt::format(
        "the station answered {}: {}", answer->status,
        e.is_object() && e.contains("error") ? e["error"].get<std::string>() : answer->body));
  }
  return answer;
}

std::string PercentEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

int List(const ProductsOptions& o) {
  auto answer = Get(o, fmt::format("/api/products?limit={}", o.limit));
  if (!answer.ok()) {
    fmt::print(stderr, "gsctl products: {}\n", answer.error().message());
    return kExitFailure;
  }
  const json j = json::parse(answer->body, nullptr, false);
  if (!j.is_object() || !j.contains("transfers") || !j.contains("kept")) {
    fmt::print(stderr, "gsctl products: the station's answer is not a product list\n");
    return kExitFailure;
  }
  if (o.json) {
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  const json& transfers = j["transfers"];
  fmt::print("transfers ({})\n", transfers.size());
  if (!transfers.empty()) {
    fmt::print("  {:<10} {:<10} {:>7} {:>10} {:>11} {:>9}  {:<13} {}\n", "ID", "STATE", "DONE",
               "SIZE", "RATE", "ETA", "CAMERA", "NAME");
  }
  for (const json& t : transfers) {
    const std::string done =
        t["progress"].is_number() ? fmt::format("{:.1f}%", 100 * t["progress"].get<double>()) : "?";
    const std::string size = t["size"].is_number() ? Octets(t["size"].get<double>()) : "?";
    const std::string eta = t["eta_s"].is_number() ? Duration(t["eta_s"].get<double>()) : "-";
    fmt::print("  {:<10} {:<10} {:>7} {:>10} {:>9}/s {:>9}  {:<13} {}\n", t.value("id", ""),
               t.value("state", ""), done, size, Octets(t.value("rate_bps", 0.0)), eta,
               t.value("camera", "").empty() ? "-" : t.value("camera", ""),
               t.value("name", "").empty() ? "(metadata not yet in)" : t.value("name", ""));
  }
  const json& kept = j["kept"];
  fmt::print("kept ({}, newest first)\n", kept.size());
  if (!kept.empty()) {
    fmt::print("  {:<28} {:>10}  {:<13} {:<24} {:<10} {}\n", "NAME", "SIZE", "CAMERA",
               "ON-BOARD TIME", "ID", "SHA-256");
  }
  for (const json& k : kept) {
    const uint64_t onboard = k.value("onboard_time_ns", uint64_t{0});
    fmt::print("  {:<28} {:>10}  {:<13} {:<24} {:<10} {}\n", k.value("name", ""),
               Octets(k.value("size", 0.0)),
               k.value("camera", "").empty() ? "-" : k.value("camera", ""),
               onboard ? FormatUtc(onboard) : "-", k.value("id", "-"), k.value("sha256", ""));
  }
  return kExitOk;
}

int GetOne(const ProductsOptions& o) {
  // A transfer id (SOURCE-SEQUENCE) gives what has arrived so far; a name, the kept file.
  const bool is_id = !o.id.empty() && o.id.find_first_not_of("0123456789-") == std::string::npos &&
                     o.id.find('-') != std::string::npos;
  auto answer = Get(o, is_id ? "/api/products/file?id=" + o.id
                             : "/api/products/file?name=" + PercentEncode(o.id));
  if (!answer.ok()) {
    fmt::print(stderr, "gsctl products get: {}\n", answer.error().message());
    return kExitFailure;
  }
  if (o.out == "-") {
    if (std::fwrite(answer->body.data(), 1, answer->body.size(), stdout) != answer->body.size() ||
        std::fflush(stdout) != 0) {
      fmt::print(stderr, "gsctl products get: writing to stdout failed\n");
      return kExitFailure;
    }
    return kExitOk;
  }
  std::ofstream out(o.out, std::ios::binary | std::ios::trunc);
  out.write(answer->body.data(), static_cast<std::streamsize>(answer->body.size()));
  out.close();
  if (!out) {
    fmt::print(stderr, "gsctl products get: cannot write '{}'\n", o.out);
    return kExitFailure;
  }
  fmt::print(stderr, "gsctl products get: {} octets of {} -> {}{}\n", answer->body.size(), o.id,
             o.out, is_id ? " (what has arrived so far; missing ranges are zeros)" : "");
  return kExitOk;
}

}  // namespace

int RunProducts(const ProductsOptions& o) {
  return o.get ? GetOne(o) : List(o);
}

}  // namespace lgs::gsctl
