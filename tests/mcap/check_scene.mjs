// Independent check of the Foxglove channels in our recordings: every schema in
// protocol/proto/foxglove is exactly what Foxglove's published package generates; the schema
// embedded in each file for /<rover>/tf, /pose, /scene and /log declares, type by type, the same
// fields as Foxglove's definitions; and the official MCAP readers decode every message of them.
//
//   node tests/mcap/check_scene.mjs PROTO_DIR FILE...
//     -> one JSON object on stdout: per topic, what was decoded (poses, transforms, the entities
//        of the scene with their extents, log lines); exit 1 on any mismatch
import fs from "node:fs/promises";
import path from "node:path";
import { createRequire } from "node:module";
import { McapIndexedReader } from "@mcap/core";
import { FileHandleReadable } from "@mcap/nodejs";
import { loadDecompressHandlers, protobufFromBinaryDescriptor } from "@mcap/support";
import protobuf from "protobufjs";

const require = createRequire(import.meta.url);
const { generateProto } = require("@foxglove/schemas/internal/generateProto.js");
const { foxgloveMessageSchemas } = require("@foxglove/schemas/internal/schemas.js");

function fail(message) {
  console.error(`check_scene: ${message}`);
  process.exit(1);
}

const [protoDir, ...files] = process.argv.slice(2);
if (!protoDir || files.length === 0) fail("usage: check_scene.mjs PROTO_DIR FILE...");

// 1. Our .proto files are Foxglove's, byte for byte; and Foxglove's definitions, parsed.
const published = new protobuf.Root();
// The well-known types the schemas import, as google/protobuf defines them.
protobuf.parse(`syntax = "proto3"; package google.protobuf;
  message Timestamp { int64 seconds = 1; int32 nanos = 2; }
  message Duration { int64 seconds = 1; int32 nanos = 2; }`, published, { keepCase: true });
const checked = [];
for (const name of (await fs.readdir(protoDir)).filter((n) => n.endsWith(".proto")).sort()) {
  const type = name.replace(/\.proto$/, "");
  const schema = foxgloveMessageSchemas[type];
  if (!schema) fail(`${name}: no such schema in @foxglove/schemas`);
  const enums = schema.fields.filter((f) => f.type.type === "enum").map((f) => f.type.enum);
  const generated = generateProto(schema, enums);
  if ((await fs.readFile(path.join(protoDir, name), "utf8")) !== generated) {
    fail(`${name} differs from @foxglove/schemas' ${type}`);
  }
  protobuf.parse(generated.replace(/^import .*$/gm, ""), published, { keepCase: true });
  checked.push(type);
}
published.resolveAll();

function fieldsOf(type) {
  const fields = Object.values(type.fields).map((f) => [f.name, [f.id, f.type.replace(/^.*\./, ""), f.repeated]]);
  return JSON.stringify(Object.fromEntries(fields.sort((a, b) => a[1][0] - b[1][0])));
}
// Every foxglove message type the embedded schema defines, against the published one.
function compareAll(root, topic) {
  let n = 0;
  const walk = (ns) => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type && nested.fullName.startsWith(".foxglove.")) {
        const theirs = published.lookupType(nested.fullName.slice(1));
        if (fieldsOf(nested) !== fieldsOf(theirs)) {
          fail(`${topic}: embedded ${nested.fullName} fields ${fieldsOf(nested)} are not Foxglove's ${fieldsOf(theirs)}`);
        }
        ++n;
      }
      if (nested.nestedArray) walk(nested);
    }
  };
  walk(root);
  return n;
}

const ns = (t) => (t ? Number(BigInt(t.seconds?.toString() ?? "0") * 1000000000n + BigInt(t.nanos ?? 0)) : 0);
const report = { schemas_checked: checked, types_compared: {}, poses: [], transforms: {}, entities: {}, logs: [] };
const decompressHandlers = await loadDecompressHandlers();
for (const file of files) {
  const handle = await fs.open(file);
  try {
    const reader = await McapIndexedReader.Initialize({ readable: new FileHandleReadable(handle), decompressHandlers });
    const types = new Map();
    for (const [id, channel] of reader.channelsById) {
      if (!/^\/[^/]+\/(tf|pose|scene|log)$/.test(channel.topic)) continue;
      const schema = reader.schemasById.get(channel.schemaId);
      if (channel.messageEncoding !== "protobuf" || schema.encoding !== "protobuf") fail(`${channel.topic}: not protobuf`);
      const root = protobufFromBinaryDescriptor(schema.data);
      report.types_compared[schema.name] = compareAll(root, channel.topic);
      types.set(id, { topic: channel.topic.split("/").pop(), type: root.lookupType(schema.name) });
    }
    for await (const message of reader.readMessages({ validateCrcs: true })) {
      const t = types.get(message.channelId);
      if (!t) continue;
      const m = t.type.toObject(t.type.decode(message.data), { longs: String, enums: String, defaults: true });
      if (t.topic === "pose") {
        report.poses.push([ns(m.timestamp), m.pose.position.x, m.pose.position.y, m.pose.position.z]);
      } else if (t.topic === "tf") {
        const key = `${m.parent_frame_id}->${m.child_frame_id}`;
        report.transforms[key] = (report.transforms[key] || 0) + 1;
      } else if (t.topic === "scene") {
        for (const e of m.entities) {
          const points = e.triangles.flatMap((tri) => tri.points);
          const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
          report.entities[e.id] = {
            frame_id: e.frame_id,
            points: points.length,
            colors: e.triangles.reduce((n, tri) => n + tri.colors.length, 0),
            indices: e.triangles.reduce((n, tri) => n + tri.indices.length, 0),
            extent: points.length ? [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)] : null,
            cubes: e.cubes.length, cylinders: e.cylinders.length, spheres: e.spheres.length,
            texts: e.texts.map((x) => x.text),
          };
        }
      } else if (t.topic === "log") {
        report.logs.push({ level: m.level, name: m.name, message: m.message, t: ns(m.timestamp) });
      }
    }
  } finally {
    await handle.close();
  }
}
process.stdout.write(`${JSON.stringify(report)}\n`);
