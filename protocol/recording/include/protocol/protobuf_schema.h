// Protobuf schemas as MCAP carries them, and decoding messages by schema.
//
// FileDescriptorSetOf gives the bytes of a google.protobuf.FileDescriptorSet holding a message's
// file and all its imports (dependencies first), as MCAP's protobuf profile requires.
// SchemaDecoder turns the bytes of a message into a protobuf Message given the schema recorded in
// the file: our compiled types when the descriptor matches by name, otherwise a dynamic type
// built from the file's own descriptor set (so old and foreign recordings decode too).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "protocol/mcap_reader.h"
#include "protocol/status.h"

namespace google::protobuf {
class Descriptor;
class DescriptorPool;
class DynamicMessageFactory;
class Message;
}  // namespace google::protobuf

namespace lgs::protocol {

std::string FileDescriptorSetOf(const google::protobuf::Descriptor& descriptor);

class SchemaDecoder {
 public:
  SchemaDecoder();
  ~SchemaDecoder();

  // The decoded message (owned by the decoder, valid until the next Decode() with the same
  // schema), or why it could not be decoded.
  Result<const google::protobuf::Message*> Decode(const McapSchema& schema,
                                                  std::span<const uint8_t> data);

 private:
  struct Entry {
    std::unique_ptr<google::protobuf::Message> message;
    std::string error;
  };
  Entry& EntryFor(const McapSchema& schema);

  std::unique_ptr<google::protobuf::DescriptorPool> pool_;
  std::unique_ptr<google::protobuf::DynamicMessageFactory> factory_;
  std::map<std::pair<std::string, std::string>, Entry> entries_;  // (name, data) -> entry
};

}  // namespace lgs::protocol
