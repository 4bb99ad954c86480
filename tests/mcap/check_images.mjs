// Independent check of the images in our recordings: the schema of foxglove.CompressedImage in
// protocol/proto is exactly what Foxglove's published package generates, the schema embedded in
// each file declares the same fields, and the official MCAP readers decode every image message.
//
//   node tests/mcap/check_images.mjs PROTO FILE...
//     -> one JSON line per image on stdout: topic, frame_id, format, timestamp_ns, sha256, width,
//        height (from the JPEG's frame header or the PNG's IHDR); exit 1 on any mismatch
import crypto from "node:crypto";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import { McapIndexedReader } from "@mcap/core";
import { FileHandleReadable } from "@mcap/nodejs";
import { loadDecompressHandlers, protobufFromBinaryDescriptor } from "@mcap/support";
import protobuf from "protobufjs";

const require = createRequire(import.meta.url);
const { generateProto } = require("@foxglove/schemas/internal/generateProto.js");
const { foxgloveMessageSchemas } = require("@foxglove/schemas/internal/schemas.js");

function fail(message) {
  console.error(`check_images: ${message}`);
  process.exit(1);
}

function fieldsOf(type) {
  // Field name -> [number, type], the type without the leading "." a descriptor gives it.
  const fields = Object.values(type.fields).map((f) => [f.name, [f.id, f.type.replace(/^\./, "")]]);
  return Object.fromEntries(fields.sort((a, b) => a[1][0] - b[1][0]));
}

function dimensions(format, data) {
  if (format === "png") {
    // Signature (8), IHDR length (4) and type (4), then width and height.
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  // JPEG: walk the markers to the start of frame.
  let i = 2;
  while (i + 9 < data.length) {
    if (data[i] !== 0xff) fail(`JPEG marker expected at ${i}`);
    const marker = data[i + 1];
    const length = (data[i + 2] << 8) | data[i + 3];
    const sof = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (sof) {
      return { height: (data[i + 5] << 8) | data[i + 6], width: (data[i + 7] << 8) | data[i + 8] };
    }
    i += 2 + length;
  }
  fail("no JPEG frame header");
}

const [protoPath, ...files] = process.argv.slice(2);
if (!protoPath) fail("usage: check_images.mjs PROTO FILE...");
const generated = generateProto(foxgloveMessageSchemas.CompressedImage, []);
const ours = await fs.readFile(protoPath, "utf8");
if (ours !== generated) fail(`${protoPath} differs from @foxglove/schemas' CompressedImage`);
const published = protobuf.parse(generated, { keepCase: true }).root.lookupType("foxglove.CompressedImage");

const decompressHandlers = await loadDecompressHandlers();
for (const path of files) {
  const handle = await fs.open(path);
  try {
    const reader = await McapIndexedReader.Initialize({
      readable: new FileHandleReadable(handle),
      decompressHandlers,
    });
    const types = new Map();
    for (const [id, schema] of reader.schemasById) {
      if (schema.name !== "foxglove.CompressedImage") continue;
      const type = protobufFromBinaryDescriptor(schema.data).lookupType(schema.name);
      const embedded = JSON.stringify(fieldsOf(type));
      const expected = JSON.stringify(fieldsOf(published));
      if (embedded !== expected) {
        fail(`${path}: embedded schema fields ${embedded} are not Foxglove's ${expected}`);
      }
      types.set(id, type);
    }
    // Only the image channels' chunks are read: a recording also holds the 3D scene and the
    // transforms, which this check has no business decompressing.
    const imageTopics = [...reader.channelsById.values()]
      .filter((c) => types.has(c.schemaId)).map((c) => c.topic);
    if (imageTopics.length === 0) continue;
    for await (const message of reader.readMessages({ topics: imageTopics, validateCrcs: true })) {
      const channel = reader.channelsById.get(message.channelId);
      const type = types.get(channel.schemaId);
      if (type === undefined) continue;
      if (channel.messageEncoding !== "protobuf") fail(`${channel.topic}: not protobuf`);
      const image = type.decode(message.data);
      const data = image.data;
      const seconds = BigInt(image.timestamp?.seconds?.toString() ?? "0");
      const { width, height } = dimensions(image.format, data);
      console.log(
        JSON.stringify({
          topic: channel.topic,
          frame_id: image.frame_id ?? image.frameId,
          format: image.format,
          timestamp_ns: (seconds * 1000000000n + BigInt(image.timestamp?.nanos ?? 0)).toString(),
          sha256: crypto.createHash("sha256").update(data).digest("hex"),
          width,
          height,
        }),
      );
    }
  } finally {
    await handle.close();
  }
}
