import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { MongoClient } from "mongodb";
import { grpc, grpcClient, type Message, rejectsWith } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer, testDatabaseUri } from "./support/server.js";

/** Every event after `afterId`, oldest first, as an admin lists them. */
async function eventsAfter(server: TestServer, afterId: number, filter: Message = {}): Promise<Message[]> {
  const events = grpcClient(server, "roster.v1.Events", server.adminKey);
  try {
    const found: Message[] = [];
    let pageToken = "";
    for (;;) {
      const page = await events.call("List", { filter, limit: 1000, page_token: pageToken });
      const newer = page.events.filter((e: Message) => Number(e.id) > afterId);
      found.push(...newer);
      pageToken = page.next_page_token;
      if (!pageToken || newer.length < page.events.length) break;
    }
    return found.reverse();
  } finally {
    events.close();
  }
}

/** Read a stream's events until `count` arrived (or the time is up). */
function streamEvents(
  server: TestServer,
  request: Message,
  count: number,
  key = server.adminKey,
): { events: Message[]; done: Promise<Message[]>; cancel(): void } {
  const client = grpcClient(server, "roster.v1.Events", key);
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${key}`);
  const call = (
    client.raw as unknown as Record<string, (r: Message, m: grpc.Metadata) => grpc.ClientReadableStream<Message>>
  ).Stream?.call(client.raw, request, md) as grpc.ClientReadableStream<Message>;
  const events: Message[] = [];
  const done = new Promise<Message[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stream got ${events.length} of ${count} events`)), 20_000);
    call.on("data", (m: Message) => {
      events.push(m.event);
      if (events.length >= count) {
        clearTimeout(timer);
        resolve(events);
      }
    });
    call.on("error", (err: grpc.ServiceError) => {
      if (err.code !== grpc.status.CANCELLED) reject(err);
    });
  });
  return {
    events,
    done,
    cancel() {
      call.cancel();
      client.close();
    },
  };
}

describe("events", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  it("records exactly one event for every change, with its actor and paths, and none for failed changes", async () => {
    const admin = server.adminKey;
    const users = grpcClient(server, "roster.v1.UserRegistry", admin);
    const access = grpcClient(server, "roster.v1.UserAccess", admin);
    const invitations = grpcClient(server, "roster.v1.InvitationRegistry", admin);
    const settings = grpcClient(server, "roster.v1.UserSettings", admin);
    const secrets: string[] = [admin];
    let last = Number((await eventsAfter(server, 0)).at(-1)?.id ?? 0);
    const expect = async (names: string[], check?: (events: Message[]) => void) => {
      const events = await eventsAfter(server, last);
      assert.deepEqual(
        events.map((e) => e.name),
        names,
      );
      check?.(events);
      if (events.length) last = Number(events.at(-1)?.id);
    };
    const adminActor = (e: Message) => {
      assert.equal(e.actor.user_id, "admin");
      assert.equal(e.actor.credential_kind, "api_key");
      assert.ok(e.actor.credential_id);
    };

    await users.call("Create", {
      user: { user_id: "alice", primary_email_address: "alice@example.com", name: "Alice" },
      password: "alice first passphrase",
    });
    secrets.push("alice first passphrase");
    await expect(["user.create"], ([e]) => {
      adminActor(e as Message);
      assert.deepEqual(e?.user_ids, ["alice"]);
      assert.ok(e?.request_id);
      assert.ok(e?.client_address);
      assert.match(e?.user_agent, /grpc-node-js/);
      assert.equal(e?.method, "roster.v1.UserRegistry/Create");
    });
    await rejectsWith(
      users.call("Create", { user: { user_id: "alice", primary_email_address: "other@example.com" } }),
      grpc.status.ALREADY_EXISTS,
    );
    await expect([]);

    await users.call("Update", {
      user: { user_id: "alice", name: "Alice A.", description: "d" },
      update_mask: { paths: ["name", "description"] },
    });
    await expect(["user.update"], ([e]) => {
      assert.deepEqual(e?.paths, ["name", "description"]);
      assert.deepEqual(e?.user_ids, ["alice"]);
    });
    await users.call("Update", { user: { user_id: "alice", name: "ignored" }, update_mask: { paths: [] } });
    await rejectsWith(
      users.call("Update", { user: { user_id: "nobody", name: "x" }, update_mask: { paths: ["name"] } }),
      grpc.status.NOT_FOUND,
    );
    await rejectsWith(
      users.call("Update", { user: { user_id: "alice", name: "x", etag: "stale" }, update_mask: { paths: ["name"] } }),
      grpc.status.ABORTED,
    );
    await expect([]);
    await users.call("Update", {
      user: { user_id: "alice", state: "STATE_FLAGGED", state_description: "spam?" },
      update_mask: { paths: ["state", "state_description"] },
    });
    await expect(["user.update"], ([e]) => assert.deepEqual(e?.paths, ["state", "state_description"]));
    await users.call("Setup", { user_id: "alice" });
    await expect(["user.setup"]);

    const login = await access.call("Authenticate", {
      user_id_or_email: "alice",
      password: "alice first passphrase",
    });
    secrets.push(login.token);
    await expect(["user.login"], ([e]) => {
      assert.equal(e?.actor.user_id, "alice");
      assert.deepEqual(e?.user_ids, ["alice"]);
    });
    await rejectsWith(
      access.call("Authenticate", { user_id_or_email: "alice", password: "wrong passphrase here" }),
      grpc.status.UNAUTHENTICATED,
    );
    secrets.push("wrong passphrase here");
    // A failed sign-in is recorded off the answer's path (its timing must not tell whether the
    // account exists): wait for it.
    for (let i = 0; i < 40 && (await eventsAfter(server, last)).length === 0; i++) await sleep(50);
    await expect(["user.login.fail"], ([e]) => assert.deepEqual(e?.user_ids, ["alice"]));
    await rejectsWith(
      access.call("Authenticate", { user_id_or_email: "nobody-by-that-name", password: "a wrong guess" }),
      grpc.status.UNAUTHENTICATED,
    );
    await sleep(500);
    await expect([]); // guesses at ids that do not exist store nothing

    const self = grpcClient(server, "roster.v1.UserAccess", login.token);
    await self.call("UpdatePassword", {
      old_password: "alice first passphrase",
      new_password: "alice second passphrase",
      clear_tokens: "CLEAR_TOKENS_NONE",
    });
    secrets.push("alice second passphrase");
    await expect(["password.update"], ([e]) => {
      assert.equal(e?.actor.user_id, "alice");
      assert.equal(e?.actor.credential_kind, "login");
      assert.deepEqual(e?.paths, ["password"]);
    });
    await rejectsWith(
      self.call("UpdatePassword", { old_password: "not it at all", new_password: "alice third passphrase" }),
      grpc.status.UNAUTHENTICATED,
    ).catch(() => {});
    await expect([]);

    const key = await access.call("CreateAPIKey", { user_id: "alice", name: "ci", rights: ["RIGHT_USER_INFO"] });
    secrets.push(key.key);
    await expect(["api_key.create"], ([e]) => assert.deepEqual(e?.object_ids, [key.api_key.id]));
    await access.call("UpdateAPIKey", {
      api_key: { user_id: "alice", id: key.api_key.id, name: "ci-2" },
      update_mask: { paths: ["name"] },
    });
    await expect(["api_key.update"], ([e]) => assert.deepEqual(e?.paths, ["name"]));
    await access.call("ExpireAPIKey", { user_id: "alice", id: "ci-2" });
    await expect(["api_key.expire"], ([e]) => assert.deepEqual(e?.object_ids, [key.api_key.id]));
    await access.call("DeleteAPIKey", { user_id: "alice", id: key.api_key.id });
    await expect(["api_key.delete"]);
    await rejectsWith(access.call("DeleteAPIKey", { user_id: "alice", id: key.api_key.id }), grpc.status.NOT_FOUND);
    await expect([]);
    await access.call("RevokeTokens", { user_id: "alice", kind: "TOKEN_KIND_LOGIN" });
    await expect(["token.revoke.login"]);
    const temporary = await access.call("CreateTemporaryPassword", { user_id: "alice", send_email: false });
    secrets.push(temporary.temporary_password);
    await expect(["password.temporary"]);

    const bob = await createUser(server, { userId: "bob", rights: ["RIGHT_USER_ALL"] });
    secrets.push(bob.key);
    await expect(["user.create", "api_key.create"]);
    const bobAccess = grpcClient(server, "roster.v1.UserAccess", bob.key);
    const request = await bobAccess.call("CreateTokenRequest", { name: "deploy", reason: "ci" });
    await expect(["token_request.create"], ([e]) => assert.equal(e?.actor.user_id, "bob"));
    await access.call("DenyTokenRequest", { id: request.token_request.id, note: "no" });
    await expect(["token_request.deny"], ([e]) => assert.deepEqual(e?.user_ids, ["bob"]));
    const second = await bobAccess.call("CreateTokenRequest", { name: "deploy2", reason: "ci" });
    await access.call("GrantTokenRequest", { id: second.token_request.id });
    await expect(["token_request.create", "token_request.grant"]);

    const settingsOf = grpcClient(server, "roster.v1.UserSettings", bob.key);
    await settingsOf.call("Set", { key: "theme", value: { stringValue: "dark" } });
    await expect(["setting.set"], ([e]) => {
      assert.deepEqual(e?.paths, ["theme"]);
      assert.deepEqual(e?.user_ids, ["bob"]);
    });
    await settings.call("Replace", {
      user_id: "bob",
      settings: { fields: { a: { numberValue: 1 }, b: { boolValue: true } } },
    });
    await expect(["setting.replace"], ([e]) => assert.deepEqual(e?.paths, ["a", "b"]));
    await settings.call("Delete", { user_id: "bob", key: "a" });
    await expect(["setting.delete"]);

    const sent = await invitations.call("Send", { email: "carol@example.com" });
    secrets.push(sent.token);
    await expect(["invitation.send"], ([e]) => assert.deepEqual(e?.object_ids, ["carol@example.com"]));
    const resent = await invitations.call("Resend", { email: "carol@example.com" });
    secrets.push(resent.token);
    await expect(["invitation.resend"]);
    const anonymous = grpcClient(server, "roster.v1.UserRegistry");
    await anonymous.call("Create", {
      user: { user_id: "carol", primary_email_address: "carol@example.com" },
      password: "carol first passphrase",
      invitation_token: resent.token,
    });
    secrets.push("carol first passphrase");
    await expect(["user.create", "invitation.accept"], ([e]) => {
      assert.equal(e?.actor.credential_kind, "anonymous");
      assert.deepEqual(e?.user_ids, ["carol"]);
    });
    await invitations.call("Send", { email: "dave@example.com" });
    await invitations.call("Delete", { email: "dave@example.com" });
    await expect(["invitation.send", "invitation.delete"]);

    await users.call("Unsetup", { user_id: "carol", reason: "left" });
    await expect(["user.unsetup"]);
    await users.call("Rename", { user_id: "carol", new_user_id: "caroline" });
    await expect(["user.rename"], ([e]) => assert.deepEqual(e?.user_ids, ["carol", "caroline"]));
    await users.call("Merge", { old_user_id: "caroline", new_user_id: "bob" });
    await expect(["user.merge"], ([e]) => assert.deepEqual(e?.user_ids, ["caroline", "bob"]));
    await users.call("Delete", { user_id: "alice" });
    await expect(["user.delete"]);
    await users.call("Restore", { user_id: "alice" });
    await expect(["user.restore"]);
    await users.call("Delete", { user_id: "alice" });
    await users.call("Purge", { user_id: "alice" });
    await expect(["user.delete", "user.purge"]);

    // Nothing secret was stored, in events or in intents.
    const client = await MongoClient.connect(server.mongodbUri);
    try {
      const db = client.db();
      const stored = JSON.stringify([
        await db.collection("events").find().toArray(),
        await db.collection("event_intents").find().toArray(),
      ]);
      assert.ok(stored.length > 1000);
      for (const secret of secrets)
        assert.ok(!stored.includes(secret), `a secret is in the events: ${secret.slice(0, 8)}`);
      assert.ok(!/rst_/.test(stored), "no token of any kind is in the events");
      // Closed intents are removed in batches, a moment after their events.
      const settled = Date.now() + 3000;
      while ((await db.collection("event_intents").countDocuments()) > 0 && Date.now() < settled)
        await new Promise((r) => setTimeout(r, 50));
      assert.equal(await db.collection("event_intents").countDocuments(), 0, "no intent is left open");
    } finally {
      await client.close();
    }
    for (const c of [users, access, invitations, settings, self, bobAccess, settingsOf, anonymous]) c.close();
  });

  it("records the changes SCIM makes, as the API's, with the provisioning key as actor", async () => {
    const access = grpcClient(server, "roster.v1.UserAccess", server.adminKey);
    const made = await access.call("CreateAPIKey", { user_id: "admin", name: "idp-events", rights: ["RIGHT_SCIM"] });
    access.close();
    const start = Number((await eventsAfter(server, 0)).at(-1)?.id ?? 0);
    const scim = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}/scim/v2${path}`, {
        method,
        headers: {
          authorization: `Bearer ${made.key}`,
          "user-agent": "an-idp/1.0",
          ...(body === undefined ? {} : { "content-type": "application/scim+json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
      return (res.status === 204 ? undefined : await res.json()) as Message;
    };
    const core = "urn:ietf:params:scim:schemas:core:2.0:User";
    const patchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    const user = await scim("POST", "/Users", {
      schemas: [core],
      userName: "scim-evented",
      emails: [{ value: "scim-evented@example.com", primary: true }],
    });
    await scim("PATCH", `/Users/${user.id}`, {
      schemas: [patchOp],
      Operations: [{ op: "replace", path: "displayName", value: "Evented" }],
    });
    await scim("PATCH", `/Users/${user.id}`, {
      schemas: [patchOp],
      Operations: [{ op: "replace", path: "password", value: "a scim given passphrase" }],
    });
    await scim("DELETE", `/Users/${user.id}`);
    const events = await eventsAfter(server, start, { user_id: "scim-evented" });
    assert.deepEqual(
      events.map((e) => [e.name, e.paths]),
      [
        ["user.create", []],
        ["user.update", ["name"]],
        ["password.update", ["password"]],
        ["user.delete", []],
      ],
    );
    for (const e of events) {
      assert.equal(e.actor.user_id, "admin");
      assert.equal(e.actor.credential_id, made.api_key.id);
      assert.equal(e.user_agent, "an-idp/1.0");
      assert.ok(e.client_address);
    }
    assert.doesNotMatch(JSON.stringify(events), /a scim given passphrase/);
  });

  it("lists events newest first, filtered by user, actor, name patterns and time, in pages", async () => {
    const events = grpcClient(server, "roster.v1.Events", server.adminKey);
    const all = await events.call("List", { filter: { names: ["user.*"] }, limit: 1000 });
    assert.ok(all.events.length > 5);
    assert.ok(all.events.every((e: Message) => e.name.startsWith("user.")));
    const ids = all.events.map((e: Message) => Number(e.id));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
    );
    const bobs = await events.call("List", { filter: { user_id: "bob", names: ["setting.*", "api_key.create"] } });
    assert.deepEqual(
      bobs.events.map((e: Message) => e.name),
      ["setting.delete", "setting.replace", "setting.set", "api_key.create"],
    );
    const byBob = await events.call("List", { filter: { actor_user_id: "bob" } });
    assert.ok(byBob.events.every((e: Message) => e.actor.user_id === "bob"));
    const future = await events.call("List", {
      filter: { since: { seconds: String(Math.floor(Date.now() / 1000) + 60) } },
    });
    assert.equal(future.events.length, 0);
    const pages: string[] = [];
    let token = "";
    do {
      const page = await events.call("List", { filter: { names: ["user.*"] }, limit: 3, page_token: token });
      pages.push(...page.events.map((e: Message) => e.id));
      token = page.next_page_token;
    } while (token);
    assert.deepEqual(
      pages,
      all.events.map((e: Message) => e.id),
    );
    await rejectsWith(events.call("List", { filter: { names: ["user.$where"] } }), grpc.status.INVALID_ARGUMENT);
    events.close();
  });

  it("shows a user only the events about themself", async () => {
    const eve = await createUser(server, { userId: "eve" });
    const events = grpcClient(server, "roster.v1.Events", eve.key);
    const own = await events.call("List", {});
    assert.ok(own.events.length >= 2);
    assert.ok(own.events.every((e: Message) => e.user_ids.includes("eve")));
    await rejectsWith(events.call("List", { filter: { user_id: "bob" } }), grpc.status.PERMISSION_DENIED);
    events.close();
  });
});

describe("events of a change interrupted by a crash", () => {
  for (const [failpoint, recorded] of [
    ["event:confirm", 1],
    ["event:intent", 0],
  ] as const) {
    it(`are settled after a restart when the crash came at ${failpoint}: ${recorded} event`, async () => {
      const mongodbUri = testDatabaseUri();
      const env = { ROSTER_EVENT_LEASE: "1s" };
      const first = await startServer({ mongodbUri, env });
      await createUser(first, { userId: "frank" });
      await first.stop();
      const crashing = await startServer({
        mongodbUri,
        env: { ...env, ROSTER_FAILPOINTS: failpoint },
        expectBootstrap: false,
      });
      const users = grpcClient(crashing, "roster.v1.UserRegistry", first.adminKey);
      await rejectsWith(
        users.call(
          "Update",
          { user: { user_id: "frank", name: "Frank F." }, update_mask: { paths: ["name"] } },
          { deadlineMs: 1000 },
        ),
        grpc.status.INTERNAL,
      );
      users.close();
      await crashing.stop();
      // The intent's lease: the call's deadline (1 s) and --event-lease (1 s).
      await new Promise((r) => setTimeout(r, 2100));
      const restarted = await startServer({ mongodbUri, env, expectBootstrap: false });
      try {
        const again = grpcClient(restarted, "roster.v1.UserRegistry", first.adminKey);
        const frank = await again.call("Get", { user_id: "frank", field_mask: { paths: ["name"] } });
        assert.equal(frank.user.name, recorded ? "Frank F." : "User frank");
        again.close();
        const updates = (await eventsAfter({ ...restarted, adminKey: first.adminKey }, 0)).filter(
          (e) => e.name === "user.update",
        );
        assert.equal(updates.length, recorded);
        if (recorded) {
          assert.deepEqual(updates[0]?.paths, ["name"]);
          assert.equal(updates[0]?.recovered, true);
        }
        const client = await MongoClient.connect(mongodbUri);
        try {
          assert.equal(await client.db().collection("event_intents").countDocuments(), 0);
        } finally {
          await client.close();
        }
      } finally {
        await restarted.stop();
      }
    });
  }
});

describe("event streams across two server processes", () => {
  it("show changes made through the other process in order, and resume after the last id without gap or duplicate", async () => {
    const a = await startServer();
    const b = await startServer({ mongodbUri: a.mongodbUri, expectBootstrap: false });
    try {
      const viaB = grpcClient(b, "roster.v1.UserRegistry", a.adminKey);
      await viaB.call("Create", { user: { user_id: "gina", primary_email_address: "gina@example.com" } });
      const first = streamEvents(a, { filter: { user_id: "gina" }, tail: 1 }, 6);
      while (first.events.length === 0) await new Promise((r) => setTimeout(r, 20));
      for (let i = 1; i <= 5; i++) {
        await viaB.call("Update", { user: { user_id: "gina", name: `Gina ${i}` }, update_mask: { paths: ["name"] } });
      }
      const seen = await first.done;
      first.cancel();
      assert.deepEqual(
        seen.map((e) => e.name),
        ["user.create", ...Array(5).fill("user.update")],
      );
      const ids = seen.map((e) => Number(e.id));
      assert.deepEqual(
        ids,
        [...ids].sort((x, y) => x - y),
      );
      // Changes while nobody streams, from both processes at once.
      const viaA = grpcClient(a, "roster.v1.UserRegistry", a.adminKey);
      await Promise.all(
        [viaA, viaB, viaA, viaB].map((c, i) =>
          c.call("Update", {
            user: { user_id: "gina", description: `d${i}` },
            update_mask: { paths: ["description"] },
          }),
        ),
      );
      const resumed = streamEvents(b, { filter: { user_id: "gina" }, after_id: String(ids.at(-1)) }, 5, a.adminKey);
      await viaA.call("Update", { user: { user_id: "gina", name: "Gina last" }, update_mask: { paths: ["name"] } });
      const rest = await resumed.done;
      resumed.cancel();
      const listed = await eventsAfter(a, 0, { user_id: "gina" });
      assert.deepEqual(
        [...seen, ...rest].map((e) => e.id),
        listed.map((e) => e.id),
        "the stream and its resumption together are the list: no gap, no duplicate",
      );
      viaA.close();
      viaB.close();
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});

describe("event retention", () => {
  it("sweeps events older than --event-retention, keeping the newest so that numbering goes on", async () => {
    const mongodbUri = testDatabaseUri();
    const client = await MongoClient.connect(mongodbUri);
    const events = client.db().collection<{ _id: number }>("events");
    // Two events recorded 40 days ago, as the server found them at start.
    const old = new Date(Date.now() - 40 * 86_400_000);
    await events.insertMany(
      [1, 2].map((n) => ({
        _id: n,
        intent: `old-${n}`,
        name: "user.update",
        time: old,
        recorded_at: old,
        actor: { user_id: "admin", credential_kind: "api_key", credential_id: "x" },
        user_ids: ["admin"],
        paths: ["name"],
        object_ids: [],
        request_id: "r",
        client_address: "",
        user_agent: "",
        method: "roster.v1.UserRegistry/Update",
        recovered: false,
      })) as never[],
    );
    const server = await startServer({
      mongodbUri,
      env: { ROSTER_EVENT_RETENTION: "30d", ROSTER_SWEEP_INTERVAL: "200ms" },
    });
    try {
      const deadline = Date.now() + 5000;
      while ((await events.countDocuments({ _id: 1 })) > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      assert.equal(await events.countDocuments({ _id: 1 }), 0, "the old event is swept");
      assert.equal(await events.countDocuments({ _id: 2 }), 1, "the newest stays, however old");
      await createUser(server, { userId: "after-sweep" });
      // Numbering goes on after the kept event (which the next sweep, 200 ms on, may now remove:
      // it is no longer the newest).
      const listed = await eventsAfter(server, 2);
      assert.deepEqual(
        listed.map((e) => [Number(e.id), e.name]),
        [
          [3, "user.create"],
          [4, "api_key.create"],
        ],
      );
    } finally {
      await server.stop();
      await client.close();
    }
  });
});
