#include "protocol/protobuf_schema.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>

#include <set>

namespace lgs::protocol {
namespace {

void AddFileAndImports(const google::protobuf::FileDescriptor& file, std::set<std::string>& added,
                       google::protobuf::FileDescriptorSet& set) {
  if (added.contains(file.name())) return;
  for (int i = 0; i < file.dependency_count(); ++i) {
    AddFileAndImports(*file.dependency(i), added, set);
  }
  added.insert(file.name());
  file.CopyTo(set.add_file());
}

}  // namespace

std::string FileDescriptorSetOf(const google::protobuf::Descriptor& descriptor) {
  google::protobuf::FileDescriptorSet set;
  std::set<std::string> added;
  AddFileAndImports(*descriptor.file(), added, set);
  return set.SerializeAsString();
}

SchemaDecoder::SchemaDecoder() = default;
SchemaDecoder::~SchemaDecoder() = default;

SchemaDecoder::Entry& SchemaDecoder::EntryFor(const McapSchema& schema) {
  const auto key = std::make_pair(schema.name, schema.data);
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& entry = it->second;
  if (!inserted) return entry;
  if (schema.encoding != "protobuf") {
    entry.error =
        fmt::format("schema '{}' has encoding '{}', not protobuf", schema.name, schema.encoding);
    return entry;
  }
  // Our own compiled type, when the recorded descriptor is the one we were built with.
  if (const auto* compiled =
          google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(schema.name);
      compiled != nullptr && FileDescriptorSetOf(*compiled) == schema.data) {
    entry.message.reset(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(compiled)->New());
    return entry;
  }
  // Otherwise build the type from the file's own descriptors.
  google::protobuf::FileDescriptorSet set;
  if (!set.ParseFromString(schema.data)) {
    entry.error = fmt::format("schema '{}' is not a valid FileDescriptorSet", schema.name);
    return entry;
  }
  if (!pool_) {
    pool_ = std::make_unique<google::protobuf::DescriptorPool>();
    factory_ = std::make_unique<google::protobuf::DynamicMessageFactory>(pool_.get());
  }
  for (const auto& file : set.file()) {
    if (pool_->FindFileByName(file.name()) == nullptr && pool_->BuildFile(file) == nullptr) {
      entry.error = fmt::format("schema '{}': cannot build '{}'", schema.name, file.name());
      return entry;
    }
  }
  const auto* descriptor = pool_->FindMessageTypeByName(schema.name);
  if (descriptor == nullptr) {
    entry.error =
        fmt::format("schema '{}' names a message its descriptors do not define", schema.name);
    return entry;
  }
  entry.message.reset(factory_->GetPrototype(descriptor)->New());
  return entry;
}

Result<const google::protobuf::Message*> SchemaDecoder::Decode(const McapSchema& schema,
                                                               std::span<const uint8_t> data) {
  Entry& entry = EntryFor(schema);
  if (!entry.message) return Status::Error(entry.error);
  if (!entry.message->ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return Status::Error(fmt::format("{} bytes do not parse as {}", data.size(), schema.name));
  }
  return static_cast<const google::protobuf::Message*>(entry.message.get());
}

}  // namespace lgs::protocol
