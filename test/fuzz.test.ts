/**
 * Fuzz every RPC of every service over the four protocols with requests
 * generated from the descriptors (fast-check): odd strings (unicode, NUL,
 * lone surrogates, huge), unknown enum numbers, maps with odd keys, nested
 * messages, out-of-range times, undecodable bytes. Each answer must be a
 * proper protocol answer that is not INTERNAL or UNKNOWN, within 5 s, and
 * the server must be alive and serving at the end.
 *
 * Reproducible: ROSTER_FUZZ_SEED=<seed> replays a run (the seed is printed
 * at the start and in a failure); ROSTER_FUZZ_RUNS sets the number of
 * rounds (one request per RPC each).
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import {
  create,
  type DescField,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromJson,
  type JsonValue,
  type Message,
  toBinary,
  toJsonString,
} from "@bufbuild/protobuf";
import { DurationSchema, FieldMaskSchema, TimestampSchema, ValueSchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import * as reflectionV1 from "../gen/grpc/reflection/v1/reflection_pb.js";
import * as reflectionV1alpha from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { InvitationRegistry } from "../gen/roster/v1/invitation_registry_pb.js";
import { UserAccess } from "../gen/roster/v1/user_access_pb.js";
import { UserBulk } from "../gen/roster/v1/user_bulk_pb.js";
import { UserRegistry } from "../gen/roster/v1/user_registry_pb.js";
import { UserSettings } from "../gen/roster/v1/user_settings_pb.js";
import { connectJson, grpcClient } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

const services: DescService[] = [
  UserRegistry,
  UserAccess,
  InvitationRegistry,
  UserSettings,
  UserBulk,
  Health,
  reflectionV1.ServerReflection,
  reflectionV1alpha.ServerReflection,
];
const methods: DescMethod[] = services.flatMap((s) => s.methods);
const protocols = ["connect-json", "connect-proto", "grpc", "grpc-web"] as const;
type Protocol = (typeof protocols)[number];

const seed = Number(process.env.ROSTER_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const runs = Number(process.env.ROSTER_FUZZ_RUNS ?? 45);
const hangMs = 5000;

/** Words the server knows, so that requests reach deep into handlers. */
const known = ["fuzz-user", "fz-one", "fz-two", "fuzz-user@example.com", "name", "attributes", "state", "theme"];

const oddText = fc.oneof(
  fc.constantFrom(...known),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.constantFrom("", "\u0000", "a\u0000b", "\t\n\r", "\u009b", "\ud800", "😀", "__proto__", "constructor", "$where"),
  // Not the bootstrap admin's address: users named by email resolve, and the test keeps that admin.
  fc.constantFrom("a.b", "-name", "user_id,name", "rst_ak_0000", "x@y", "nobody@localhost"),
  fc.integer({ min: 190, max: 6000 }).map((n) => "é".repeat(n)),
);
const oddKey = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "toString", "prototype", "", "a.b", "$set", "team", "😀"),
  fc.string({ maxLength: 8 }),
);

/** Fields of a message, in the shape protobuf-es messages hold them. */
function valueArb(field: DescField, depth: number): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case "scalar":
      return scalarArb(field.scalar);
    case "enum":
      return enumArb(field.enum.values.map((v) => v.number));
    case "message":
      return messageArb(field.message, depth + 1);
    case "list": {
      const item =
        field.listKind === "scalar"
          ? scalarArb(field.scalar)
          : field.listKind === "enum"
            ? enumArb(field.enum.values.map((v) => v.number))
            : messageArb(field.message, depth + 1);
      return fc.array(item, { maxLength: depth > 2 ? 1 : 4 });
    }
    case "map": {
      const value =
        field.mapKind === "scalar"
          ? scalarArb(field.scalar)
          : field.mapKind === "enum"
            ? enumArb(field.enum.values.map((v) => v.number))
            : messageArb(field.message, depth + 1);
      return fc.dictionary(oddKey, value, { maxKeys: 3, noNullPrototype: true });
    }
  }
}

function enumArb(numbers: number[]): fc.Arbitrary<number> {
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...numbers) }, fc.constantFrom(99, -1, 2147483647));
}

function scalarArb(scalar: number): fc.Arbitrary<unknown> {
  // ScalarType: 9 string, 12 bytes, 8 bool, 3/4/6/16/18 64-bit, 1/2 floating point.
  if (scalar === 9) return oddText;
  if (scalar === 12) return fc.uint8Array({ maxLength: 16 });
  if (scalar === 8) return fc.boolean();
  if ([3, 16, 18].includes(scalar)) return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
  if ([4, 6].includes(scalar)) return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
  if (scalar === 1 || scalar === 2) return fc.double();
  if ([13, 7].includes(scalar)) return fc.nat();
  return fc.oneof(fc.integer({ min: -5, max: 1200 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
}

const messageCache = new Map<string, fc.Arbitrary<Message>>();

function messageArb(desc: DescMessage, depth: number): fc.Arbitrary<Message> {
  switch (desc.typeName) {
    case "google.protobuf.Timestamp":
    case "google.protobuf.Duration":
      return fc
        .record({
          seconds: fc.oneof(
            fc.bigInt({ min: -100_000n, max: 4_000_000_000n }),
            fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }),
          ),
          nanos: fc.oneof(fc.constant(0), fc.integer({ min: -2e9, max: 2e9 })),
        })
        .map((v) =>
          desc.typeName === "google.protobuf.Timestamp" ? create(TimestampSchema, v) : create(DurationSchema, v),
        );
    case "google.protobuf.FieldMask":
      return fc.array(oddText, { maxLength: 3 }).map((paths) => create(FieldMaskSchema, { paths }));
    case "google.protobuf.Struct":
      return fc.dictionary(oddKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3, noNullPrototype: true }) as never;
    case "google.protobuf.Value":
      // Unlike Struct, a Value field holds the message, not plain JSON.
      return fc.jsonValue({ maxDepth: 2 }).map((json) => fromJson(ValueSchema, json as JsonValue));
  }
  const key = `${desc.typeName}@${Math.min(depth, 4)}`;
  const cached = messageCache.get(key);
  if (cached) return cached;
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  if (depth <= 4) {
    for (const member of desc.members) {
      if (member.kind === "oneof") {
        parts[member.localName] = fc.oneof(
          ...member.fields.map((f) => valueArb(f, depth).map((value) => ({ case: f.localName, value }))),
        );
      } else {
        parts[member.localName] = valueArb(member, depth);
      }
    }
  }
  // Fields are assigned as they are, so that map keys such as __proto__ stay own properties.
  const arb = fc.record(parts, { requiredKeys: [] }).map((fields) => {
    const message = create(desc) as unknown as Record<string, unknown>;
    for (const [name, value] of Object.entries(fields)) message[name] = value;
    return message as unknown as Message;
  });
  messageCache.set(key, arb);
  return arb;
}

interface FuzzRequest {
  method: DescMethod;
  protocol: Protocol;
  credential: "admin" | "user" | "none" | "bogus";
  message: Message;
  /** Replace the encoded message by these bytes (undecodable input). */
  garbage?: Uint8Array;
}

function requestArb(method: DescMethod): fc.Arbitrary<FuzzRequest> {
  // Bidi streams need HTTP/2 with full duplex: gRPC.
  const protocol =
    method.methodKind === "bidi_streaming" ? fc.constant("grpc" as const) : fc.constantFrom(...protocols);
  return fc.record({
    method: fc.constant(method),
    protocol,
    credential: fc.constantFrom("admin", "admin", "admin", "admin", "user", "none", "bogus"),
    message: messageArb(method.input, 0),
    garbage: fc.option(fc.uint8Array({ minLength: 1, maxLength: 24 }), { freq: 20, nil: undefined }),
  }) as fc.Arbitrary<FuzzRequest>;
}

function describeRequest(r: FuzzRequest): string {
  let body: string;
  try {
    body = r.garbage ? `bytes ${Buffer.from(r.garbage).toString("hex")}` : toJsonString(r.method.input, r.message);
  } catch {
    body = `binary ${Buffer.from(toBinary(r.method.input, r.message)).toString("base64")}`;
  }
  return `${r.method.parent.typeName}/${r.method.name} over ${r.protocol} as ${r.credential}: ${body.slice(0, 600)}`;
}

function envelope(data: Uint8Array, flags = 0): Buffer {
  const out = Buffer.alloc(5 + data.length);
  out[0] = flags;
  out.writeUInt32BE(data.length, 1);
  out.set(data, 5);
  return out;
}

function envelopes(bytes: Buffer): { flags: number; data: Buffer }[] {
  const out: { flags: number; data: Buffer }[] = [];
  for (let i = 0; i + 5 <= bytes.length; ) {
    const length = bytes.readUInt32BE(i + 1);
    out.push({ flags: bytes[i] as number, data: bytes.subarray(i + 5, i + 5 + length) });
    i += 5 + length;
  }
  return out;
}

/** What went wrong with one answer, or undefined when it is a proper one. */
type Verdict = string | undefined;

const badConnectCodes = new Set(["internal", "unknown"]);
const badGrpcCodes = new Set(["2", "13"]);

describe("fuzzing every RPC over every protocol", () => {
  let server: TestServer;
  let session: http2.ClientHttp2Session;
  const keys = { admin: "", user: "", bogus: "rst_ak_0000000000000000000000000000000000000000" };

  before(async () => {
    server = await startServer({ args: ["--argon2-memory", "1024", "--argon2-iterations", "1"] });
    keys.admin = (await createUser(server, { userId: "fuzz-admin", admin: true })).key;
    keys.user = (await createUser(server, { userId: "fuzz-user" })).key;
    for (const userId of ["fz-one", "fz-two"]) await createUser(server, { userId });
    session = http2.connect(server.url);
    session.on("error", () => {});
  });
  after(async () => {
    // Destroyed, not closed: a stream given up on as hanging must not keep the test process alive.
    session?.destroy();
    await server.stop();
  });

  let repairs = 0;
  /** The fuzz may revoke or demote its own admin; the bootstrap admin (never fuzzed) repairs that. */
  async function repairAdmin(): Promise<void> {
    const probe = await connectJson(server, "roster.v1.UserAccess/ListRights", {}, { key: keys.admin });
    if (probe.status === 200 && probe.body.admin) return;
    const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    const access = grpcClient(server, "roster.v1.UserAccess", server.adminKey);
    try {
      await users
        .call("Restore", { user_id: "fuzz-admin" })
        .catch(() => users.call("Create", { user: { user_id: "fuzz-admin", primary_email_address: "fa@example.com" } }))
        .catch(() => undefined);
      await users.call("Update", {
        user: { user_id: "fuzz-admin", admin: true, state: "STATE_APPROVED" },
        update_mask: { paths: ["admin", "state"] },
      });
      const created = await access.call("CreateAPIKey", {
        user_id: "fuzz-admin",
        // Key names are unique per user; the fuzz may have left keys of earlier repairs.
        name: `fuzz repair ${++repairs}`,
        rights: ["RIGHT_USER_ALL", "RIGHT_ADMIN_ALL"],
      });
      keys.admin = created.key;
    } finally {
      users.close();
      access.close();
    }
  }

  function headersFor(r: FuzzRequest): Record<string, string> {
    const headers: Record<string, string> = {};
    const key = r.credential === "none" ? "" : keys[r.credential];
    if (key) headers.authorization = `Bearer ${key}`;
    // Health Watch streams until the deadline; everything else must answer without one.
    if (r.method.name === "Watch") {
      if (r.protocol.startsWith("connect")) headers["connect-timeout-ms"] = "300";
      else headers["grpc-timeout"] = "300m";
    }
    return headers;
  }

  async function send(r: FuzzRequest): Promise<Verdict> {
    const path = `/${r.method.parent.typeName}/${r.method.name}`;
    const streaming = r.method.methodKind !== "unary";
    let body: Uint8Array;
    let json = r.protocol === "connect-json";
    try {
      body =
        r.garbage ??
        (json ? Buffer.from(toJsonString(r.method.input, r.message)) : toBinary(r.method.input, r.message));
    } catch {
      // No JSON form (a time out of range, say): send it as protobuf.
      json = false;
      body = r.garbage ?? toBinary(r.method.input, r.message);
    }
    const headers = headersFor(r);
    if (r.protocol.startsWith("connect")) {
      const kind = json ? "json" : "proto";
      const res = await fetch(`${server.url}${path}`, {
        method: "POST",
        headers: {
          ...headers,
          "content-type": streaming ? `application/connect+${kind}` : `application/${kind}`,
          "connect-protocol-version": "1",
        },
        body: streaming ? envelope(body) : body,
      });
      const bytes = Buffer.from(await res.arrayBuffer());
      if (!streaming || res.status !== 200) {
        if (res.status === 200) return undefined;
        let error: { code?: string };
        try {
          error = JSON.parse(bytes.toString("utf8"));
        } catch {
          return `HTTP ${res.status} without a Connect error: ${bytes.toString("utf8").slice(0, 200)}`;
        }
        if (typeof error.code !== "string") return `HTTP ${res.status} without a Connect error code`;
        return badConnectCodes.has(error.code) ? `${error.code}: ${JSON.stringify(error)}` : undefined;
      }
      const end = envelopes(bytes).find((e) => e.flags & 2);
      if (!end) return "a stream without an end-of-stream message";
      const { error } = JSON.parse(end.data.toString("utf8")) as { error?: { code: string } };
      return error && badConnectCodes.has(error.code) ? `${error.code}: ${JSON.stringify(error)}` : undefined;
    }
    if (r.protocol === "grpc-web") {
      const res = await fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
        body: envelope(body),
      });
      const bytes = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200) return `gRPC-Web answered HTTP ${res.status}`;
      const trailer =
        envelopes(bytes)
          .find((e) => e.flags & 0x80)
          ?.data.toString("utf8") ?? "";
      const status = /grpc-status:\s*(\d+)/i.exec(trailer)?.[1] ?? res.headers.get("grpc-status");
      if (status == null) return "a gRPC-Web answer without grpc-status";
      return badGrpcCodes.has(status)
        ? `grpc-status ${status}: ${trailer || res.headers.get("grpc-message")}`
        : undefined;
    }
    return new Promise<Verdict>((resolve) => {
      const stream = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc+proto",
        te: "trailers",
        ...headers,
      });
      let status: string | undefined;
      let message = "";
      let httpStatus = 0;
      stream.on("response", (h) => {
        httpStatus = Number(h[":status"]);
        if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]);
        message = String(h["grpc-message"] ?? "");
      });
      stream.on("trailers", (t) => {
        status = String(t["grpc-status"]);
        message = String(t["grpc-message"] ?? "");
      });
      stream.on("data", () => {});
      stream.setTimeout(hangMs, () => stream.close(http2.constants.NGHTTP2_CANCEL));
      stream.on("error", (err) => resolve(`gRPC stream error: ${err.message}`));
      stream.on("close", () => {
        if (httpStatus !== 200) resolve(`gRPC answered HTTP ${httpStatus}`);
        else if (status === undefined) resolve("a gRPC answer without grpc-status");
        else resolve(badGrpcCodes.has(status) ? `grpc-status ${status}: ${decodeURIComponent(message)}` : undefined);
      });
      stream.end(envelope(body));
    });
  }

  async function check(r: FuzzRequest): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${hangMs} ms`), hangMs);
    });
    try {
      const verdict = await Promise.race([send(r).catch((err: Error) => `request failed: ${err.message}`), hang]);
      return verdict && `${verdict}\n    request: ${describeRequest(r)}`;
    } finally {
      clearTimeout(timer);
    }
  }

  it(`answers ${runs} rounds of one generated request per RPC (${methods.length} RPCs, 4 protocols) properly`, async () => {
    process.stdout.write(`# fuzz seed ${seed} (replay with ROSTER_FUZZ_SEED=${seed})\n`);
    let sent = 0;
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.tuple(...methods.map(requestArb)), async (round) => {
        await repairAdmin();
        const failures: string[] = [];
        let next = 0;
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            while (next < round.length) {
              const verdict = await check(round[next++] as FuzzRequest);
              sent++;
              if (verdict) failures.push(verdict);
            }
          }),
        );
        assert.deepEqual(
          failures,
          [],
          `seed ${seed}: ${failures.length} improper answers:\n  ${failures.join("\n  ")}`,
        );
      }),
      { seed, numRuns: runs, endOnFailure: true },
    );
    process.stdout.write(`# fuzz: ${sent} requests in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    assert.ok(sent >= Math.min(2000, runs * methods.length), `${sent} requests`);

    // The server is alive and serving.
    assert.equal(server.process.exitCode, null, "the server is running");
    const health = await connectJson(server, "grpc.health.v1.Health/Check", {});
    assert.equal(health.body.status, "SERVING");
    const me = await connectJson(server, "roster.v1.UserRegistry/GetCurrent", {}, { key: server.adminKey });
    assert.equal(me.status, 200, JSON.stringify(me.body));
  });
});
