import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { grpcClient } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { linkToken, waitForEmail } from "./support/outbox.js";
import { startServer, type TestServer } from "./support/server.js";

/** `roster users verify-email` and `roster users send-password-reset` against a live server. */
describe("roster users verify-email and send-password-reset", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  it("sends a validation link for another user (admins) or oneself, and says when none is needed", async () => {
    const alice = await createUser(server, { userId: "cli-alice" });
    const sent = await roster(["users", "verify-email", "cli-alice"], { server });
    assert.equal(sent.code, 0, sent.stderr);
    assert.deepEqual(sent.json(), { sent: true, email: alice.email });
    const mail = await waitForEmail(server, (m) => m.to === alice.email && m.subject === "Confirm your email address");
    const self = grpcClient(server, "roster.v1.SelfService");
    try {
      await self.call("ValidateEmail", { token: linkToken(mail.links[0] as string) });
    } finally {
      self.close();
    }
    const again = await roster(["users", "verify-email"], { server, key: alice.key });
    assert.equal(again.code, 0, again.stderr);
    // Like every JSON output of roster, fields at their default (false) are left out.
    assert.deepEqual(again.json(), { email: alice.email });

    const bob = await createUser(server, { userId: "cli-bob" });
    const refused = await roster(["users", "verify-email", "cli-alice"], { server, key: bob.key });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /PERMISSION_DENIED/);
  });

  it("asks for a password reset link without credentials, answering alike for any address", async () => {
    const carol = await createUser(server, { userId: "cli-carol" });
    const known = await roster(["users", "send-password-reset", carol.email], { server, key: null });
    const unknown = await roster(["users", "send-password-reset", "nobody@example.com"], { server, key: null });
    assert.equal(known.code, 0, known.stderr);
    assert.equal(known.stdout, unknown.stdout);
    const mail = await waitForEmail(server, (m) => m.to === carol.email && m.subject === "Reset your password");
    assert.match(mail.links[0] as string, /\/reset-password#token=rst_pr_/);
    const bad = await roster(["users", "send-password-reset", "not-an-address"], { server, key: null });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /INVALID_ARGUMENT/);
  });
});
