/**
 * Create calls per second (16 concurrent callers, users without a password)
 * against a raw driver `insertOne` of the same documents into a collection
 * with the same indexes, in interleaved rounds. Target: >= 0.6.
 *
 *   node dist/bench/create-user.js
 */
import { randomBytes } from "node:crypto";
import { ObjectId } from "mongodb";
import { UserRegistry } from "../gen/roster/v1/user_registry_pb.js";
import type { UserDocument } from "../server/store/user-documents.js";
import { createUsersStore } from "../server/store/users-store.js";
import { type BenchEnvironment, isMain, runAlone, type TransportName } from "./support/environment.js";
import { interleaved, ratios, report, throughput } from "./support/measure.js";

const callers = 16;
const seconds = 3;

/** A user document as Roster stores one made by Create. */
function document(id: string, now: Date): UserDocument {
  const email = `${id}@example.com`;
  return {
    _id: id,
    user_id: id,
    ref: new ObjectId(),
    name: `New User ${id}`,
    description: "",
    primary_email_address: email,
    email_key: email,
    primary_email_address_validated_at: null,
    attributes: {},
    state: "APPROVED",
    state_description: "",
    admin: false,
    require_password_update: false,
    password_hash: null,
    password_updated_at: null,
    created_at: now,
    updated_at: now,
    deleted_at: null,
    created_by: "admin",
    updated_by: "admin",
    merged_into: "",
    merge_redirect: false,
    operation: null,
    etag: randomBytes(9).toString("base64url"),
    revision: 1,
  };
}

export async function measureCreate(env: BenchEnvironment, transport: TransportName = "gRPC"): Promise<void> {
  await createUsersStore(env.rawDb).ensureIndexes();
  const raw = env.rawDb.collection<UserDocument>("users");
  const users = env.client(UserRegistry, transport);
  let round = 0;
  const v = await interleaved(3, {
    create: () => {
      const r = round++;
      return throughput(callers, seconds * 1000, (i) =>
        users.create(
          {
            user: {
              userId: `new-${r}-${i}`,
              name: `New User ${r} ${i}`,
              primaryEmailAddress: `new-${r}-${i}@example.com`,
            },
          },
          { headers: env.headers },
        ),
      );
    },
    raw: () => {
      const r = round++;
      return throughput(callers, seconds * 1000, (i) => raw.insertOne(document(`raw-${r}-${i}`, new Date())));
    },
  });
  report(`Create over ${transport}`, v.create, "calls/s");
  report("  raw driver insertOne", v.raw, "calls/s");
  report("  Create / insertOne", ratios(v.create, v.raw), "x", { op: ">=", value: 0.6 });
}

if (isMain(import.meta.url)) await runAlone("Create", (env) => measureCreate(env));
