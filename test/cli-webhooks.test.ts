import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";
import { startReceiver, verified, type WebhookReceiver } from "./support/webhook-receiver.js";

/** `roster webhooks ...`, each command run as a child process against a live server and a live receiver. */
describe("roster webhooks", () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  before(async () => {
    [server, receiver] = await Promise.all([
      startServer({ args: ["--webhook-allow-http", "--webhook-retry-delay", "200ms"] }),
      startReceiver(),
    ]);
  });
  after(async () => {
    await server.stop();
    await receiver.close();
  });

  it("creates, lists, gets, updates, tests, lists deliveries of and deletes a webhook", async () => {
    const created = await roster(
      ["webhooks", "create", "--url", receiver.url, "--names", "user.*", "--description", "CRM sync"],
      { server },
    );
    assert.equal(created.code, 0, created.stderr);
    const { webhook, secret } = created.json();
    assert.match(secret, /^whsec_/);
    assert.match(webhook.id, /^wh[0-9a-z]{13}$/);
    assert.deepEqual(webhook.names, ["user.*"]);
    assert.equal(webhook.url, receiver.url);
    assert.equal(webhook.created_by, "admin");
    const id: string = webhook.id;

    const listed = await roster(["webhooks", "list"], { server });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      listed.json().map((w: { id: string }) => w.id),
      [id],
    );
    const got = await roster(["webhooks", "get", id], { server });
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.json().description, "CRM sync");
    assert.ok(!got.stdout.includes("whsec_"), "the secret is shown only once");

    // The app's own service account is left out; api_key events are added.
    await createUser(server, { userId: "crm-sync", admin: true });
    const updated = await roster(
      ["webhooks", "update", id, "--names", "user.*", "--names", "api_key.*", "--exclude-actor-user-ids", "crm-sync"],
      { server },
    );
    assert.equal(updated.code, 0, updated.stderr);
    assert.deepEqual(updated.json().names, ["user.*", "api_key.*"]);
    assert.deepEqual(updated.json().exclude_actor_user_ids, ["crm-sync"]);
    assert.equal(updated.json().description, "CRM sync", "fields not given stay");

    const tested = await roster(["webhooks", "test", id], { server });
    assert.equal(tested.code, 0, tested.stderr);
    const delivery = tested.json();
    assert.equal(delivery.status, "WEBHOOK_DELIVERY_STATUS_DELIVERED");
    assert.equal(delivery.last_response_code, 200);
    const arrived = receiver.accepted().get(delivery.id)?.[0];
    assert.ok(arrived);
    assert.equal(verified(secret, arrived).type, "webhook.test");

    // A change arrives as an event delivery.
    const change = await roster(["users", "create", "nora", "--primary-email-address", "nora@example.com"], {
      server,
    });
    assert.equal(change.code, 0, change.stderr);
    await receiver.waitFor("the user.create delivery", () =>
      [...receiver.accepted().values()].some((c) => verified(secret, c[0] as never).type === "user.create"),
    );
    const deliveries = await roster(["webhooks", "deliveries", id, "--delivered"], { server });
    assert.equal(deliveries.code, 0, deliveries.stderr);
    const names = deliveries.json().map((d: { event_name: string }) => d.event_name);
    assert.ok(names.includes("user.create") && names.includes("webhook.test"), names.join(", "));
    const pending = await roster(["webhooks", "deliveries", id, "--pending"], { server });
    assert.equal(pending.code, 0, pending.stderr);
    const table = await roster(["webhooks", "deliveries", id, "-o", "table"], { server });
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /webhook\.test/);

    const disabled = await roster(["webhooks", "update", id, "--disabled"], { server });
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.equal(disabled.json().disabled, true);
    const enabled = await roster(["webhooks", "update", id, "--disabled=false"], { server });
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.equal(enabled.json().disabled, false);

    const refused = await roster(["webhooks", "delete", id], { server });
    assert.equal(refused.code, 2, "deleting asks first; without a terminal it needs --force");
    const deleted = await roster(["webhooks", "delete", id, "--force"], { server });
    assert.equal(deleted.code, 0, deleted.stderr);
    const gone = await roster(["webhooks", "get", id], { server });
    assert.equal(gone.code, 4, gone.stderr);
    assert.match(gone.stderr, /WEBHOOK_NOT_FOUND/);
  });

  it("reports what is wrong with a webhook before anything is registered", async () => {
    const noNames = await roster(["webhooks", "create", "--url", receiver.url], { server });
    assert.equal(noNames.code, 3, noNames.stderr);
    assert.match(noNames.stderr, /webhook\.names/);
    const badUrl = await roster(["webhooks", "create", "--url", "not a url", "--names", "*"], { server });
    assert.equal(badUrl.code, 3, badUrl.stderr);
    assert.match(badUrl.stderr, /webhook\.url/);
    const member = await createUser(server);
    const denied = await roster(["webhooks", "list"], { server, key: member.key });
    assert.equal(denied.code, 6, denied.stderr);
    assert.match(denied.stderr, /RIGHT_ADMIN_WEBHOOKS/);
  });
});
