// Independent check of our MCAP files with the official TypeScript readers (@mcap/core,
// @mcap/nodejs, @mcap/support): indexed and streaming reads with CRC validation, counts against
// the statistics, data section CRC, and every payload decoded with the schema in the file.
//
//   node tests/mcap/check_mcap.mjs FILE...   -> one JSON line per file on stdout; exit 1 on failure
import fs from "node:fs/promises";
import { McapIndexedReader, McapStreamReader } from "@mcap/core";
import { FileHandleReadable } from "@mcap/nodejs";
import { loadDecompressHandlers, protobufFromBinaryDescriptor } from "@mcap/support";

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

async function check(path, decompressHandlers) {
  const handle = await fs.open(path);
  try {
    const reader = await McapIndexedReader.Initialize({
      readable: new FileHandleReadable(handle),
      decompressHandlers,
    });
    const types = new Map();
    for (const [id, schema] of reader.schemasById) {
      if (schema.encoding !== "protobuf") throw new Error(`schema ${id} is not protobuf`);
      const root = protobufFromBinaryDescriptor(schema.data);
      types.set(id, root.lookupType(schema.name));
    }
    const perTopic = {};
    let indexed = 0;
    let decoded = 0;
    for await (const message of reader.readMessages({ validateCrcs: true })) {
      const channel = reader.channelsById.get(message.channelId);
      const type = types.get(channel.schemaId);
      type.toObject(type.decode(message.data), { defaults: true });
      decoded++;
      indexed++;
      perTopic[channel.topic] = (perTopic[channel.topic] ?? 0) + 1;
    }
    const stats = reader.statistics;
    if (BigInt(indexed) !== stats.messageCount) {
      throw new Error(`indexed read gave ${indexed} messages, statistics say ${stats.messageCount}`);
    }
    for (const [channelId, count] of stats.channelMessageCounts) {
      const topic = reader.channelsById.get(channelId).topic;
      if (BigInt(perTopic[topic] ?? 0) !== count) {
        throw new Error(`${topic}: read ${perTopic[topic]}, statistics say ${count}`);
      }
    }

    // Streaming read of the whole file, and the data section CRC that neither reader checks.
    const bytes = new Uint8Array(await fs.readFile(path));
    const stream = new McapStreamReader({ decompressHandlers, validateCrcs: true });
    stream.append(bytes);
    let streamed = 0;
    let dataEndCrc = null;
    for (let record; (record = stream.nextRecord()); ) {
      if (record.type === "Message") streamed++;
      if (record.type === "DataEnd") dataEndCrc = record.dataSectionCrc;
    }
    if (!stream.done()) throw new Error("streaming read did not reach the footer and magic");
    if (streamed !== indexed) throw new Error(`streaming read gave ${streamed}, indexed ${indexed}`);
    const footerView = new DataView(bytes.buffer, bytes.length - 8 - 29, 29);
    const summaryStart = Number(footerView.getBigUint64(9, true));
    const dataEndOffset = summaryStart - 13;
    const computed = crc32(bytes.subarray(0, dataEndOffset));
    if (dataEndCrc !== computed) {
      throw new Error(`data section CRC ${dataEndCrc} but computed ${computed}`);
    }
    return { file: path, ok: true, messages: indexed, decoded, chunks: reader.chunkIndexes.length, topics: perTopic };
  } finally {
    await handle.close();
  }
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node check_mcap.mjs FILE...");
  process.exit(2);
}
const decompressHandlers = await loadDecompressHandlers();
let failed = false;
for (const file of files) {
  try {
    console.log(JSON.stringify(await check(file, decompressHandlers)));
  } catch (error) {
    failed = true;
    console.log(JSON.stringify({ file, ok: false, error: String(error?.message ?? error) }));
  }
}
process.exit(failed ? 1 : 0);
