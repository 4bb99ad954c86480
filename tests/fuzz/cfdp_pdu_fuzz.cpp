// libFuzzer target: CFDP PDU decoding (protocol/cfdp_pdu.h). Whatever the bytes, DecodePdu
// accepts or refuses with a reason, reads nothing out of bounds and allocates nothing in
// proportion to what a PDU claims; a PDU it accepts encodes again, and decoding and encoding that
// gives the same bytes (what the station sends back is what it read).
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "protocol/bytes.h"
#include "protocol/cfdp_pdu.h"

using namespace lgs::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto pdu = cfdp::DecodePdu(std::span<const uint8_t>(data, size));
  if (!pdu.ok()) {
    if (pdu.error().detail.empty()) std::abort();  // every refusal says why
    return 0;
  }
  if (pdu->size > size) std::abort();
  std::string once;
  if (!cfdp::EncodePdu(pdu->header, pdu->body, once).ok()) std::abort();
  auto again = cfdp::DecodePdu(AsBytes(once));
  if (!again.ok() || again->size != once.size() || again->body.index() != pdu->body.index()) {
    std::abort();
  }
  std::string twice;
  if (!cfdp::EncodePdu(again->header, again->body, twice).ok() || twice != once) std::abort();
  return 0;
}
