import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { simpleParser } from "mailparser";
import { MongoClient } from "mongodb";
import { Webhook } from "standardwebhooks";
import { grpc, grpcClient, type Message, rejectsWith } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer, testDatabaseUri } from "./support/server.js";
import { startReceiver, verified, type WebhookReceiver } from "./support/webhook-receiver.js";

/** Options of every server here: http:// endpoints on 127.0.0.1, quick retries. */
const serverArgs = ["--webhook-allow-http", "--webhook-retry-delay", "200ms"];

/** A secret key shared by the servers of one test: each can open the others' webhook secrets. */
const sharedKey = () => ({ ROSTER_SECRET_KEY: randomBytes(32).toString("base64") });

function webhooksOf(server: TestServer, key = server.adminKey) {
  return grpcClient(server, "roster.v1.Webhooks", key);
}

async function createWebhook(server: TestServer, webhook: Message): Promise<{ id: string; secret: string }> {
  const client = webhooksOf(server);
  try {
    const created = await client.call("Create", { webhook });
    return { id: created.webhook.id, secret: created.secret };
  } finally {
    client.close();
  }
}

/**
 * The deliveries of webhook `id` once none is pending any more (or after 15 s).
 * A receiver has its copy before the server records the answer, so a test waits for the record too.
 */
async function settledDeliveries(client: ReturnType<typeof webhooksOf>, id: string): Promise<Message[]> {
  for (const deadline = Date.now() + 15_000; ; ) {
    const { deliveries } = await client.call("ListDeliveries", { webhook_id: id, limit: 100 });
    const pending = deliveries.some((d: Message) => d.status === "WEBHOOK_DELIVERY_STATUS_PENDING");
    if (!pending || Date.now() > deadline) return deliveries;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Change a user's name `times` times as the admin; the new names. */
async function rename(server: TestServer, userId: string, times: number, prefix: string): Promise<string[]> {
  const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
  const names: string[] = [];
  try {
    for (let i = 1; i <= times; i++) {
      const name = `${prefix} ${i}`;
      await users.call("Update", { user: { user_id: userId, name }, update_mask: { paths: ["name"] } });
      names.push(name);
    }
  } finally {
    users.close();
  }
  return names;
}

/** The ids of the events named `name` about `userId`, oldest first. */
async function eventIds(server: TestServer, userId: string, name: string): Promise<string[]> {
  const events = grpcClient(server, "roster.v1.Events", server.adminKey);
  try {
    const { events: found } = await events.call("List", { filter: { user_id: userId, names: [name] }, limit: 1000 });
    return found.map((e: Message) => e.id as string).reverse();
  } finally {
    events.close();
  }
}

/** The event ids of the deliveries of webhook `hook` a receiver accepted (with `type`), verified with its secret. */
function acceptedEvents(receiver: WebhookReceiver, hook: { id: string; secret: string }, type?: string): string[] {
  return [...receiver.accepted().entries()]
    .filter(([deliveryId]) => deliveryId.startsWith(`wd_${hook.id}_`))
    .map(([, copies]) => verified(hook.secret, copies[0] as never))
    .filter((p) => !type || p.type === type)
    .map((p) => String(p.data.id));
}

describe("webhooks", () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  before(async () => {
    [server, receiver] = await Promise.all([startServer({ args: serverArgs }), startReceiver()]);
  });
  after(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it("delivers the events it names, signed as Standard Webhooks: the signature verifies with the secret", async () => {
    const { id, secret } = await createWebhook(server, {
      url: receiver.url,
      names: ["user.create", "user.update"],
      description: "signed deliveries",
    });
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const hanna = await createUser(server, { userId: "hanna" });
    await rename(server, "hanna", 2, "Hanna");
    await receiver.waitFor("three deliveries", () => receiver.accepted().size >= 3);
    const deliveries = [...receiver.accepted().values()].map((copies) => copies[0] as never);
    const payloads = deliveries.map((d) => verified(secret, d));
    assert.deepEqual(payloads.map((p) => p.type).sort(), ["user.create", "user.update", "user.update"]);
    for (const [i, payload] of payloads.entries()) {
      const d = deliveries[i] as { headers: Record<string, string> };
      assert.match(d.headers["webhook-id"] as string, new RegExp(`^wd_${id}_\\d+$`));
      assert.match(d.headers["webhook-signature"] as string, /^v1,[A-Za-z0-9+/]+=*$/);
      assert.equal(d.headers["content-type"], "application/json");
      assert.deepEqual(payload.data.userIds, ["hanna"]);
      assert.equal((payload.data.actor as Message).userId, "admin");
      assert.equal(payload.timestamp, payload.data.time);
    }
    const update = payloads.find((p) => p.type === "user.update");
    assert.deepEqual(update?.data.paths, ["name"]);
    // Another secret does not verify them; a changed body does not either.
    const other = `whsec_${randomBytes(32).toString("base64")}`;
    assert.throws(() => verified(other, deliveries[0] as never), /No matching signature/);
    const d0 = deliveries[0] as { headers: Record<string, string>; body: string };
    assert.throws(
      () => new Webhook(secret).verify(d0.body.replace("hanna", "hanne"), d0.headers),
      /No matching signature/,
    );
    // api_key.create (from createUser) is not among the names.
    assert.ok(!payloads.some((p) => p.type.startsWith("api_key.")));
    assert.ok(hanna.key);

    // The deliveries are listed with their status and the endpoint's answer.
    const client = webhooksOf(server);
    const listed = await settledDeliveries(client, id);
    const { total_size } = await client.call("ListDeliveries", { webhook_id: id, limit: 1 });
    assert.equal(listed.length, 3);
    assert.equal(Number(total_size), 3);
    for (const delivery of listed) {
      assert.equal(delivery.status, "WEBHOOK_DELIVERY_STATUS_DELIVERED");
      assert.equal(delivery.last_response_code, 200);
      assert.equal(delivery.attempts, 1);
      assert.equal(delivery.last_error, "");
      assert.ok(delivery.delivered_at && delivery.created_at && delivery.last_attempt_at);
    }
    const { webhook } = await client.call("Get", { id });
    assert.equal(webhook.consecutive_failures, 0);
    assert.ok(webhook.last_success_at);
    await client.call("Delete", { id });
    client.close();
  });

  it("leaves out the changes of excluded actors, by user id or by API key id", async () => {
    const svc = await createUser(server, { userId: "sync-app", admin: true });
    await createUser(server, { userId: "ivo" });
    const byUser = await createWebhook(server, {
      url: receiver.url,
      names: ["user.update"],
      exclude_actor_user_ids: ["sync-app"],
    });
    // The key made above is another credential of the admin: only its changes are left out.
    const made = grpcClient(server, "roster.v1.UserAccess", server.adminKey);
    const { api_key: excludedKey, key: excludedSecret } = await made.call("CreateAPIKey", {
      user_id: "admin",
      name: "excluded writer",
    });
    made.close();
    const byKey = await createWebhook(server, {
      url: receiver.url,
      names: ["user.update"],
      exclude_actor_api_key_ids: [excludedKey.id],
    });
    const update = (key: string, name: string) => {
      const users = grpcClient(server, "roster.v1.UserRegistry", key);
      return users
        .call("Update", { user: { user_id: "ivo", name }, update_mask: { paths: ["name"] } })
        .finally(() => users.close());
    };
    await update(svc.key, "by the sync app");
    await update(excludedSecret, "by the excluded key");
    await update(server.adminKey, "by the admin");
    const [bySvc, byExcludedKey, byAdmin] = await eventIds(server, "ivo", "user.update");
    assert.ok(bySvc && byExcludedKey && byAdmin);
    const client = webhooksOf(server);
    const deliveredEvents = async (id: string) => {
      for (const deadline = Date.now() + 15_000; ; ) {
        const { deliveries } = await client.call("ListDeliveries", { webhook_id: id });
        const done = deliveries.filter((d: Message) => d.status === "WEBHOOK_DELIVERY_STATUS_DELIVERED");
        // The admin's change, the last, is queued after the others were considered.
        if (done.some((d: Message) => d.event_id === byAdmin) || Date.now() > deadline) {
          return deliveries.map((d: Message) => d.event_id as string).sort();
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    assert.deepEqual(await deliveredEvents(byUser.id), [byExcludedKey, byAdmin].sort());
    assert.deepEqual(await deliveredEvents(byKey.id), [bySvc, byAdmin].sort());
    const received = new Set([
      ...acceptedEvents(receiver, byUser, "user.update"),
      ...acceptedEvents(receiver, byKey, "user.update"),
    ]);
    for (const id of [bySvc, byExcludedKey, byAdmin]) assert.ok(received.has(id), `event ${id} arrived`);
    await client.call("Delete", { id: byUser.id });
    await client.call("Delete", { id: byKey.id });
    client.close();
  });

  it("sends a test delivery, signed, and reports the endpoint's answer", async () => {
    const { id, secret } = await createWebhook(server, { url: receiver.url, names: ["*"] });
    const client = webhooksOf(server);
    const { delivery } = await client.call("Test", { id });
    assert.equal(delivery.status, "WEBHOOK_DELIVERY_STATUS_DELIVERED");
    assert.equal(delivery.event_name, "webhook.test");
    assert.equal(delivery.last_response_code, 200);
    assert.equal(delivery.event_id, "");
    const got = receiver.accepted().get(delivery.id)?.[0];
    assert.ok(got, "the receiver got it");
    const payload = verified(secret, got);
    assert.equal(payload.type, "webhook.test");
    assert.equal(payload.data.webhookId, id);

    receiver.answer = 503;
    try {
      const { delivery: failed } = await client.call("Test", { id });
      assert.equal(failed.status, "WEBHOOK_DELIVERY_STATUS_PENDING", "a failed test is retried");
      assert.equal(failed.attempts, 1);
      assert.equal(failed.last_response_code, 503);
      assert.match(failed.last_error, /^HTTP 503: receiver is down/);
      // Tests do not count against the webhook's health.
      const { webhook } = await client.call("Get", { id });
      assert.equal(webhook.consecutive_failures, 0);
    } finally {
      receiver.answer = 200;
    }
    await client.call("Delete", { id });
    await rejectsWith(client.call("Get", { id }), grpc.status.NOT_FOUND, "WEBHOOK_NOT_FOUND");
    await rejectsWith(client.call("Test", { id }), grpc.status.NOT_FOUND, "WEBHOOK_NOT_FOUND");
    client.close();
  });

  it("lists, gets and updates webhooks by field mask, never showing the secret again", async () => {
    const { id, secret } = await createWebhook(server, { url: receiver.url, names: ["user.*"], description: "one" });
    const client = webhooksOf(server);
    const { webhook } = await client.call("Update", {
      webhook: { id, names: ["user.*", "api_key.*"], description: "ignored: not in the mask" },
      update_mask: { paths: ["names"] },
    });
    assert.deepEqual(webhook.names, ["user.*", "api_key.*"]);
    assert.equal(webhook.description, "one");
    const { webhooks, total_size } = await client.call("List", {});
    assert.ok(webhooks.some((w: Message) => w.id === id));
    assert.ok(Number(total_size) >= 1);
    await rejectsWith(
      client.call("Update", { webhook: { id, created_by: "x" }, update_mask: { paths: ["created_by"] } }),
      grpc.status.INVALID_ARGUMENT,
    );
    await rejectsWith(
      client.call("Update", { webhook: { id, names: [] }, update_mask: { paths: ["names"] } }),
      grpc.status.INVALID_ARGUMENT,
    );
    await rejectsWith(
      client.call("Create", { webhook: { url: "ftp://example.invalid/x", names: ["user.*"] } }),
      grpc.status.INVALID_ARGUMENT,
    );
    await rejectsWith(
      client.call("Create", { webhook: { url: receiver.url, names: ["User.Update!"] } }),
      grpc.status.INVALID_ARGUMENT,
    );
    await rejectsWith(
      client.call("Create", { webhook: { url: receiver.url, names: ["*"], exclude_actor_api_key_ids: ["nope"] } }),
      grpc.status.INVALID_ARGUMENT,
    );
    // Nobody without RIGHT_ADMIN_WEBHOOKS.
    const member = await createUser(server);
    await rejectsWith(webhooksOf(server, member.key).call("List", {}), grpc.status.PERMISSION_DENIED);
    const reader = await createUser(server, { admin: true, rights: ["RIGHT_ADMIN_USERS_READ"] });
    await rejectsWith(webhooksOf(server, reader.key).call("Get", { id }), grpc.status.PERMISSION_DENIED);
    // Registering, changing and removing webhooks are events; the secret is in none, nor in the log.
    const events = grpcClient(server, "roster.v1.Events", server.adminKey);
    const { events: found } = await events.call("List", { filter: { names: ["webhook.*"] }, limit: 100 });
    events.close();
    const mine = found.filter((e: Message) => e.object_ids.includes(id));
    assert.deepEqual(
      mine.map((e: Message) => e.name),
      ["webhook.update", "webhook.create"],
    );
    assert.deepEqual(mine[0].paths, ["names"]);
    assert.ok(!JSON.stringify(found).includes(secret.slice(6)));
    assert.ok(!server.stdout().includes(secret.slice(6)) && !server.stderr().includes(secret.slice(6)));
    await client.call("Delete", { id });
    client.close();
  });
});

describe("webhook deliveries through failures and restarts", () => {
  it("reach a receiver that fails for a while, across a restart and two server processes, losing none", async () => {
    const receiver = await startReceiver();
    const mongodbUri = testDatabaseUri();
    const env = sharedKey();
    const first = await startServer({ mongodbUri, env, args: serverArgs });
    const adminKey = first.adminKey;
    let second: TestServer | undefined;
    let third: TestServer | undefined;
    try {
      await createUser(first, { userId: "jon" });
      const { id, secret } = await createWebhook(first, { url: receiver.url, names: ["user.update"] });
      receiver.answer = 500;
      await rename(first, "jon", 3, "Jon before");
      await receiver.waitFor("failed attempts", (r) => r.filter((x) => x.status === 500).length >= 3);
      // The server stops while the receiver is down: the deliveries wait in the database.
      await first.stop();
      second = await startServer({ mongodbUri, env, args: serverArgs, expectBootstrap: false });
      third = await startServer({ mongodbUri, env, args: serverArgs, expectBootstrap: false });
      const viaSecond = { ...second, adminKey };
      const viaThird = { ...third, adminKey };
      await Promise.all([rename(viaSecond, "jon", 3, "Jon via second"), rename(viaThird, "jon", 3, "Jon via third")]);
      await new Promise((r) => setTimeout(r, 1000));
      receiver.answer = 200;
      const expected = await eventIds(viaSecond, "jon", "user.update");
      assert.equal(expected.length, 9);
      await receiver.waitFor(
        "every delivery accepted",
        () => expected.every((e) => receiver.accepted().has(`wd_${id}_${e}`)),
        30_000,
      );
      assert.deepEqual(acceptedEvents(receiver, { id, secret }).sort(), [...expected].sort());
      const client = webhooksOf(viaSecond);
      const deliveries = await settledDeliveries(client, id);
      client.close();
      assert.equal(deliveries.length, 9);
      const early = deliveries.filter((d: Message) => Number(d.event_id) <= Number(expected[2]));
      for (const d of early) {
        assert.equal(d.status, "WEBHOOK_DELIVERY_STATUS_DELIVERED");
        assert.ok(d.attempts > 1, `delivery ${d.id} was retried (${d.attempts} attempts)`);
      }
    } finally {
      await third?.stop();
      await second?.stop();
      await first.stop();
      await receiver.close();
    }
  });

  for (const [failpoint, what] of [
    ["webhook:enqueue", "between an event and the queueing of its delivery"],
    ["webhook:cursor", "between queueing deliveries and moving the cursor past them"],
  ] as const) {
    it(`loses no delivery and sends none twice when a server dies ${what}`, async () => {
      const receiver = await startReceiver();
      const mongodbUri = testDatabaseUri();
      const env = sharedKey();
      const first = await startServer({ mongodbUri, env, args: serverArgs });
      const adminKey = first.adminKey;
      let crashing: TestServer | undefined;
      let restarted: TestServer | undefined;
      try {
        await createUser(first, { userId: "kim" });
        const { id, secret } = await createWebhook(first, { url: receiver.url, names: ["user.update"] });
        await first.stop();
        crashing = await startServer({
          mongodbUri,
          env: { ...env, ROSTER_FAILPOINTS: failpoint },
          args: serverArgs,
          expectBootstrap: false,
        });
        await rename({ ...crashing, adminKey }, "kim", 3, "Kim");
        if (failpoint === "webhook:cursor") {
          // Queued and delivered, but the cursor never moves.
          await receiver.waitFor("three deliveries", () => receiver.accepted().size >= 3);
          // Their outcomes settle (a delivery in flight at a crash is sent again, at least once).
          await new Promise((r) => setTimeout(r, 500));
        } else {
          await new Promise((r) => setTimeout(r, 1500));
          assert.equal(receiver.received.length, 0, "nothing was queued");
        }
        crashing.process.kill("SIGKILL");
        await crashing.stop();
        restarted = await startServer({ mongodbUri, env, args: serverArgs, expectBootstrap: false });
        const expected = await eventIds({ ...restarted, adminKey }, "kim", "user.update");
        assert.equal(expected.length, 3);
        await receiver.waitFor("every delivery", () => expected.every((e) => receiver.accepted().has(`wd_${id}_${e}`)));
        // The restarted server's dispatcher went over the same events (a round or two).
        await new Promise((r) => setTimeout(r, 1500));
        for (const [deliveryId, copies] of receiver.accepted()) {
          assert.equal(copies.length, 1, `${deliveryId} arrived once`);
        }
        assert.deepEqual(acceptedEvents(receiver, { id, secret }).sort(), [...expected].sort());
      } finally {
        await restarted?.stop();
        await crashing?.stop();
        await first.stop();
        await receiver.close();
      }
    });
  }
});

describe("a webhook that keeps failing", () => {
  it("is disabled after --webhook-disable-failures, the admins are emailed, and enabling it delivers what waited", async () => {
    const receiver = await startReceiver();
    receiver.answer = 500;
    const server = await startServer({
      args: [
        "--webhook-allow-http",
        "--webhook-disable-failures",
        "3",
        "--webhook-disable-after",
        "0s",
        "--webhook-retry-delay",
        "100ms",
      ],
    });
    try {
      const { id, secret } = await createWebhook(server, { url: receiver.url, names: ["user.*"] });
      await createUser(server, { userId: "lena", name: "Lena" });
      const client = webhooksOf(server);
      let webhook: Message = {};
      for (const deadline = Date.now() + 20_000; !webhook.disabled && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 100));
        ({ webhook } = await client.call("Get", { id }));
      }
      assert.equal(webhook.disabled, true, "the webhook is disabled");
      assert.match(webhook.disabled_reason, /^3 delivery attempts failed in a row since .*; the last: HTTP 500/);
      assert.ok(webhook.disabled_at);
      assert.ok(webhook.consecutive_failures >= 3);
      // Once disabled, nothing more is attempted.
      await new Promise((r) => setTimeout(r, 800));
      const attemptsWhenDisabled = receiver.received.length;
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(receiver.received.length, attemptsWhenDisabled);

      // The admins hear of it by email.
      const outbox = join(server.dataDir, "outbox");
      let mail: { subject: string; text: string; to: string } | undefined;
      for (const deadline = Date.now() + 10_000; !mail && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 100));
        let files: string[] = [];
        try {
          files = readdirSync(outbox).filter((f) => f.endsWith(".eml"));
        } catch {}
        for (const f of files) {
          const parsed = await simpleParser(readFileSync(join(outbox, f)));
          if (parsed.subject === `Webhook ${id} was disabled`) {
            mail = { subject: parsed.subject, text: parsed.text ?? "", to: JSON.stringify(parsed.to) };
          }
        }
      }
      assert.ok(mail, "the admins were emailed");
      assert.match(mail.to, /admin@localhost/);
      assert.match(mail.text, new RegExp(`${receiver.url.replace(/[/.]/g, "\\$&")}`));
      assert.match(mail.text, /roster webhooks update wh\w+ --disabled=false/);
      assert.ok(!mail.text.includes(secret.slice(6)));
      const events = grpcClient(server, "roster.v1.Events", server.adminKey);
      const { events: disabling } = await events.call("List", { filter: { names: ["webhook.disable"] } });
      events.close();
      assert.equal(disabling.length, 1);
      assert.equal(disabling[0].actor.credential_kind, "system");

      // Changes while disabled wait; enabling it again delivers them all.
      const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
      await users.call("Update", { user: { user_id: "lena", name: "Lena L." }, update_mask: { paths: ["name"] } });
      users.close();
      receiver.answer = 200;
      const { webhook: enabled } = await client.call("Update", {
        webhook: { id, disabled: false },
        update_mask: { paths: ["disabled"] },
      });
      assert.equal(enabled.disabled, false);
      assert.equal(enabled.disabled_reason, "");
      assert.equal(enabled.consecutive_failures, 0);
      const expected = [
        ...(await eventIds(server, "lena", "user.create")),
        ...(await eventIds(server, "lena", "user.update")),
      ];
      await receiver.waitFor("the waiting deliveries", () =>
        expected.every((e) => receiver.accepted().has(`wd_${id}_${e}`)),
      );
      client.close();
    } finally {
      await server.stop();
      await receiver.close();
    }
  });

  it("refuses http:// endpoints unless --webhook-allow-http", async () => {
    const server = await startServer();
    try {
      const client = webhooksOf(server);
      const refused = await rejectsWith(
        client.call("Create", { webhook: { url: "http://127.0.0.1:9/hook", names: ["*"] } }),
        grpc.status.INVALID_ARGUMENT,
      );
      assert.match(refused.details, /needs --webhook-allow-http/);
      const { webhook } = await client.call("Create", { webhook: { url: "https://127.0.0.1:9/hook", names: ["*"] } });
      assert.match(webhook.id, /^wh[0-9a-z]{13}$/);
      client.close();
      const db = await MongoClient.connect(server.mongodbUri);
      try {
        const stored = await db.db().collection("webhooks").findOne({ _id: webhook.id });
        assert.ok(stored && !JSON.stringify(stored).includes("whsec_"), "the secret is stored sealed");
      } finally {
        await db.close();
      }
    } finally {
      await server.stop();
    }
  });
});
