import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MongoClient } from "mongodb";
import { connectJson, type GrpcClient, grpc, grpcClient, type Message, rejectsWith } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer, testDatabaseUri } from "./support/server.js";
import { recipients, startSmtp, type TestSmtp } from "./support/smtp.js";

const { FAILED_PRECONDITION, UNAUTHENTICATED, ALREADY_EXISTS, NOT_FOUND } = grpc.status;

describe("account operations (Arvados)", () => {
  let smtp: TestSmtp;
  let server: TestServer;
  const clients: GrpcClient[] = [];
  const client = (service: string, key?: string, s: TestServer = server) => {
    const c = grpcClient(s, service, key);
    clients.push(c);
    return c;
  };
  const users = (key = server.adminKey, s: TestServer = server) => client("roster.v1.UserRegistry", key, s);
  const access = (key = server.adminKey, s: TestServer = server) => client("roster.v1.UserAccess", key, s);
  const works = async (key: string, s: TestServer = server) => {
    try {
      return (await access(key, s).call("ListRights", {})).user_id as string;
    } catch (err) {
      assert.equal((err as { code: number }).code, UNAUTHENTICATED);
      return undefined;
    }
  };
  const setSetting = (s: TestServer, key: string, userId: string, name: string, value: unknown) =>
    connectJson(s, "roster.v1.UserSettings/Set", { userId, key: name, value }, { key });
  const settingsOf = async (s: TestServer, userId: string) =>
    (await connectJson(s, "roster.v1.UserSettings/List", { userId }, { key: s.adminKey })).body.settings ?? {};

  before(async () => {
    smtp = await startSmtp();
    server = await startServer({ args: ["--smtp-url", smtp.url] });
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.stop();
    await smtp.close();
  });

  describe("current and system users", () => {
    it("has a built-in system user that made the bootstrap admin and cannot log in or be changed", async () => {
      const { user } = await users().call("Get", {
        user_id: "system",
        field_mask: { paths: ["name", "state", "created_by"] },
      });
      assert.equal(user.name, "System");
      const admin = await users().call("GetCurrent", { field_mask: { paths: ["created_by", "admin"] } });
      assert.equal(admin.user.user_id, "admin");
      assert.equal(admin.user.created_by, "system");
      await rejectsWith(
        access("").call("Authenticate", { user_id_or_email: "system", password: "anything at all" }),
        UNAUTHENTICATED,
      );
      await rejectsWith(
        access().call("CreateAPIKey", { user_id: "system", name: "x" }),
        FAILED_PRECONDITION,
        "SYSTEM_USER",
      );
      await rejectsWith(
        users().call("Update", { user: { user_id: "system", name: "x" }, update_mask: { paths: ["name"] } }),
        FAILED_PRECONDITION,
        "SYSTEM_USER",
      );
      await rejectsWith(users().call("Delete", { user_id: "system" }), FAILED_PRECONDITION, "SYSTEM_USER");
      await rejectsWith(users().call("Purge", { user_id: "system" }), FAILED_PRECONDITION, "SYSTEM_USER");
      await rejectsWith(
        access().call("CreateTemporaryPassword", { user_id: "system" }),
        FAILED_PRECONDITION,
        "SYSTEM_USER",
      );
    });

    it("records who changed a user in updated_by", async () => {
      const u = await createUser(server, { userId: "audited" });
      await users(u.key).call("Update", {
        user: { user_id: "audited", name: "Self" },
        update_mask: { paths: ["name"] },
      });
      let { user } = await users().call("Get", {
        user_id: "audited",
        field_mask: { paths: ["created_by", "updated_by"] },
      });
      assert.deepEqual([user.created_by, user.updated_by], ["admin", "audited"]);
      await users().call("Update", {
        user: { user_id: "audited", description: "by admin" },
        update_mask: { paths: ["description"] },
      });
      ({ user } = await users().call("Get", { user_id: "audited", field_mask: { paths: ["updated_by"] } }));
      assert.equal(user.updated_by, "admin");
    });
  });

  describe("setup and unsetup", () => {
    it("unsetup deactivates and revokes every token but keeps the record; setup makes the user usable again with a welcome email", async () => {
      const u = await createUser(server, { userId: "contractor", password: "a fine passphrase" });
      const { token } = await access("").call("Authenticate", {
        user_id_or_email: "contractor",
        password: "a fine passphrase",
      });
      const res = await users().call("Unsetup", { user_id: "contractor", reason: "contract ended" });
      assert.equal(res.user.state, "STATE_SUSPENDED");
      assert.equal(res.user.state_description, "contract ended");
      assert.equal(res.tokens_revoked, "2");
      assert.equal(await works(u.key), undefined);
      assert.equal(await works(token), undefined);
      assert.equal(
        (await users().call("Get", { user_id: "contractor" })).user.user_id,
        "contractor",
        "the record stays",
      );
      await rejectsWith(
        access("").call("Authenticate", { user_id_or_email: "contractor", password: "a fine passphrase" }),
        UNAUTHENTICATED,
      );

      const setup = await users().call("Setup", { user_id: "contractor", send_email: true });
      assert.equal(setup.user.state, "STATE_APPROVED");
      assert.equal(setup.user.state_description, "");
      await smtp.waitFor((m) => recipients(m).includes(u.email) && m.subject === "Your account is ready");
      assert.equal(await works(u.key), undefined, "revoked keys stay revoked");
      const again = await access("").call("Authenticate", {
        user_id_or_email: "contractor",
        password: "a fine passphrase",
      });
      assert.equal(await works(again.token), "contractor");
      const plain = await createUser(server, { userId: "not-admin-ops" });
      await rejectsWith(users(plain.key).call("Unsetup", { user_id: "contractor" }), grpc.status.PERMISSION_DENIED);
    });
  });

  describe("merge", () => {
    it("moves attributes, settings and API keys into the new account, soft-deletes the old one and redirects its login", async () => {
      const old = await createUser(server, { userId: "old-account", password: "old passphrase" });
      await createUser(server, { userId: "new-account", password: "new passphrase" });
      await users().call("Update", {
        user: { user_id: "old-account", attributes: { team: "red", desk: "12" } },
        update_mask: { paths: ["attributes"] },
      });
      await users().call("Update", {
        user: { user_id: "new-account", attributes: { team: "blue" } },
        update_mask: { paths: ["attributes"] },
      });
      assert.equal((await setSetting(server, old.key, "old-account", "theme", "dark")).status, 200);
      await setSetting(server, old.key, "old-account", "lang", "fr");
      await setSetting(server, server.adminKey, "new-account", "lang", "en");
      const { key: extra } = await access(old.key).call("CreateAPIKey", { name: "ci", rights: ["RIGHT_USER_INFO"] });

      const res = await users().call("Merge", {
        old_user_id: "old-account",
        new_user_id: "new-account",
        redirect: true,
      });
      assert.equal(res.api_keys_moved, "2");
      assert.equal(res.settings_moved, "1");
      assert.deepEqual(res.user.attributes, { team: "blue", desk: "12" });
      assert.deepEqual(await settingsOf(server, "new-account"), { lang: "en", theme: "dark" });
      assert.equal(await works(extra), "new-account", "moved keys act as the new user");
      assert.equal(await works(old.key), "new-account");
      await rejectsWith(users().call("Get", { user_id: "old-account" }), NOT_FOUND);
      const deleted = await users().call("List", { deleted: true, field_mask: { paths: ["merged_into"] } });
      assert.equal(deleted.users.find((u: Message) => u.user_id === "old-account")?.merged_into, "new-account");
      const redirected = await access("").call("Authenticate", {
        user_id_or_email: "old-account",
        password: "old passphrase",
      });
      assert.equal(redirected.user_id, "new-account");
      assert.equal(
        (
          await access("").call("Authenticate", {
            user_id_or_email: "old-account@example.com",
            password: "old passphrase",
          })
        ).user_id,
        "new-account",
      );
      // Calling it again changes nothing and succeeds.
      const again = await users().call("Merge", { old_user_id: "old-account", new_user_id: "new-account" });
      assert.equal(again.api_keys_moved, "0");
    });

    it("revokes the old account's keys when asked, and does not redirect without being asked", async () => {
      const old = await createUser(server, { userId: "old-2", password: "old passphrase" });
      await createUser(server, { userId: "new-2" });
      const res = await users().call("Merge", {
        old_user_id: "old-2",
        new_user_id: "new-2",
        api_keys: "MERGE_API_KEYS_REVOKE",
      });
      assert.equal(res.api_keys_moved, "0");
      assert.equal(res.tokens_revoked, "1");
      assert.equal(await works(old.key), undefined);
      await rejectsWith(
        access("").call("Authenticate", { user_id_or_email: "old-2", password: "old passphrase" }),
        UNAUTHENTICATED,
      );
    });

    it("lets the old user merge itself without admin rights with a full token of the new account", async () => {
      const old = await createUser(server, { userId: "self-old", password: "old passphrase" });
      const fresh = await createUser(server, { userId: "self-new" });
      const { key: infoOnly } = await access().call("CreateAPIKey", {
        user_id: "self-new",
        name: "info only",
        rights: ["RIGHT_USER_INFO"],
      });
      const other = await createUser(server, { userId: "self-other" });
      await rejectsWith(
        users(old.key).call("Merge", { old_user_id: "self-old", new_user_id: "self-new" }),
        grpc.status.PERMISSION_DENIED,
        "NEW_USER_TOKEN_INVALID",
      );
      for (const token of [infoOnly, other.key, "rst_ak_0000000000000000000000000000000000000000"]) {
        await rejectsWith(
          users(old.key).call("Merge", { old_user_id: "self-old", new_user_id: "self-new", new_user_token: token }),
          grpc.status.PERMISSION_DENIED,
          "NEW_USER_TOKEN_INVALID",
        );
      }
      // Somebody else's account cannot be merged away, whatever token is shown.
      await rejectsWith(
        users(other.key).call("Merge", { old_user_id: "self-old", new_user_id: "self-new", new_user_token: fresh.key }),
        grpc.status.PERMISSION_DENIED,
        "MISSING_RIGHT",
      );
      const res = await users(old.key).call("Merge", {
        old_user_id: "self-old",
        new_user_id: "self-new",
        new_user_token: fresh.key,
        redirect: true,
      });
      assert.equal(res.user.user_id, "self-new");
      assert.equal(await works(old.key), "self-new");
    });

    it("refuses to restore a merged user, naming the user it was merged into", async () => {
      const err = await rejectsWith(
        users().call("Restore", { user_id: "self-old" }),
        FAILED_PRECONDITION,
        "USER_MERGED",
      );
      assert.match(err.details, /self-old was merged into self-new and cannot be restored/);
      const redirected = await access("").call("Authenticate", {
        user_id_or_email: "self-old",
        password: "old passphrase",
      });
      assert.equal(redirected.user_id, "self-new");
    });

    it("refuses to merge a user into itself, into a missing user, or the system user", async () => {
      await createUser(server, { userId: "lonely" });
      await rejectsWith(
        users().call("Merge", { old_user_id: "lonely", new_user_id: "lonely" }),
        grpc.status.INVALID_ARGUMENT,
      );
      await rejectsWith(users().call("Merge", { old_user_id: "lonely", new_user_id: "nobody-here" }), NOT_FOUND);
      await rejectsWith(
        users().call("Merge", { old_user_id: "system", new_user_id: "lonely" }),
        FAILED_PRECONDITION,
        "SYSTEM_USER",
      );
    });
  });

  describe("rename", () => {
    it("changes the id and every reference follows: tokens, API keys, settings, token requests, invitations, audit fields", async () => {
      const u = await createUser(server, { userId: "old-name", password: "a fine passphrase" });
      const { token } = await access("").call("Authenticate", {
        user_id_or_email: "old-name",
        password: "a fine passphrase",
      });
      await setSetting(server, u.key, "old-name", "theme", "light");
      const { token_request: request } = await access(u.key).call("CreateTokenRequest", { name: "x", reason: "r" });
      // old-name creates a user as an admin would not; instead check audit fields via its own update.
      await users(u.key).call("Update", {
        user: { user_id: "old-name", name: "Renamee" },
        update_mask: { paths: ["name"] },
      });

      const { user } = await users().call("Rename", { user_id: "old-name", new_user_id: "new-name" });
      assert.equal(user.user_id, "new-name");
      assert.equal(user.name, "Renamee");
      await rejectsWith(users().call("Get", { user_id: "old-name" }), NOT_FOUND);
      assert.equal(await works(u.key), "new-name");
      assert.equal(await works(token), "new-name");
      const keys = await access().call("ListAPIKeys", { user_id: "new-name" });
      assert.equal(keys.api_keys[0].user_id, "new-name");
      assert.deepEqual(await settingsOf(server, "new-name"), { theme: "light" });
      const req = await access().call("GetTokenRequest", { id: request.id });
      assert.equal(req.token_request.user_id, "new-name");
      const login = await access("").call("Authenticate", {
        user_id_or_email: "old-name@example.com",
        password: "a fine passphrase",
      });
      assert.equal(login.user_id, "new-name", "the email moved with the user");
      const { user: audited } = await users().call("Get", {
        user_id: "new-name",
        field_mask: { paths: ["updated_by"] },
      });
      assert.equal(audited.updated_by, "admin");
    });

    it("moves invitation acceptance records and admin audit trails to the new id", async () => {
      const a = await createUser(server, { userId: "inviting-admin", admin: true });
      const { token } = await client("roster.v1.InvitationRegistry", a.key).call("Send", {
        email: "invitee@example.com",
        send_email: false,
      });
      await client("roster.v1.UserRegistry", "").call("Create", {
        user: { user_id: "invitee" },
        password: "a fine passphrase",
        invitation_token: token,
      });
      await users().call("Rename", { user_id: "invitee", new_user_id: "invitee-renamed" });
      await users().call("Rename", { user_id: "inviting-admin", new_user_id: "admin-renamed" });
      const inv = await client("roster.v1.InvitationRegistry", server.adminKey).call("Get", {
        email: "invitee@example.com",
      });
      assert.equal(inv.invitation.accepted_by, "invitee-renamed");
      assert.equal(inv.invitation.created_by, "admin-renamed");
    });

    it("refuses an id that is taken, also by a soft-deleted user", async () => {
      await createUser(server, { userId: "renamer" });
      await createUser(server, { userId: "taken-id" });
      await createUser(server, { userId: "reserved-id" });
      await users().call("Delete", { user_id: "reserved-id" });
      await rejectsWith(
        users().call("Rename", { user_id: "renamer", new_user_id: "taken-id" }),
        ALREADY_EXISTS,
        "USER_ID_TAKEN",
      );
      await rejectsWith(
        users().call("Rename", { user_id: "renamer", new_user_id: "reserved-id" }),
        ALREADY_EXISTS,
        "USER_ID_TAKEN",
      );
      await rejectsWith(
        users().call("Rename", { user_id: "renamer", new_user_id: "Bad_Id" }),
        grpc.status.INVALID_ARGUMENT,
      );
      assert.equal((await users().call("Get", { user_id: "renamer" })).user.user_id, "renamer", "unchanged");
    });
  });

  describe("rename racing with credentials", () => {
    it("keeps every API key and login token acknowledged during a concurrent rename working afterwards", async () => {
      let acknowledged = 0;
      const broken: string[] = [];
      for (let round = 0; round < 3; round++) {
        const from = `racer-${round}`;
        const to = `raced-${round}`;
        await createUser(server, { userId: from, password: "racer passphrase" });
        const keys = Array.from({ length: 20 }, (_, i) =>
          access().call("CreateAPIKey", { user_id: from, name: `key ${i}`, rights: ["RIGHT_USER_ALL"] }),
        );
        const logins = Array.from({ length: 5 }, () =>
          access("").call("Authenticate", { user_id_or_email: `${from}@example.com`, password: "racer passphrase" }),
        );
        await new Promise((r) => setTimeout(r, 5 * round));
        await users().call("Rename", { user_id: from, new_user_id: to });
        const secrets = (await Promise.allSettled([...keys, ...logins])).flatMap((r) =>
          r.status === "fulfilled" ? [(r.value.key ?? r.value.token) as string] : [],
        );
        acknowledged += secrets.length;
        for (const secret of secrets) {
          const who = await works(secret);
          if (who !== to) broken.push(`${secret.slice(0, 12)}... answers as ${who}`);
        }
      }
      assert.ok(acknowledged > 0, "some credentials were made during the renames");
      assert.deepEqual(broken, [], `${broken.length} of ${acknowledged} acknowledged credentials broken`);
    });
  });

  describe("a server started after a crash between steps", () => {
    const stepsOf = {
      merge: ["merge:journaled", "merge:attributes", "merge:settings", "merge:tokens"],
      rename: ["rename:journaled", "rename:copied", "rename:references", "rename:old-removed"],
    };
    for (const [operation, steps] of Object.entries(stepsOf)) {
      for (const step of steps) {
        it(`finishes a ${operation} interrupted after ${step} on its own, having refused writes to the old id meanwhile`, async () => {
          const mongodbUri = testDatabaseUri();
          const crashing = await startServer({ mongodbUri, env: { ROSTER_FAILPOINTS: step } });
          const a = await createUser(crashing, { userId: "first", password: "first passphrase" });
          await createUser(crashing, { userId: "second" });
          await setSetting(crashing, a.key, "first", "theme", "dark");
          const call =
            operation === "merge"
              ? users(crashing.adminKey, crashing).call("Merge", {
                  old_user_id: "first",
                  new_user_id: "second",
                  redirect: true,
                })
              : users(crashing.adminKey, crashing).call("Rename", { user_id: "first", new_user_id: "renamed" });
          await rejectsWith(call, grpc.status.INTERNAL);
          // A write to the old id now is refused, never acknowledged and then lost.
          const write = await users(crashing.adminKey, crashing)
            .call("Update", {
              user: { user_id: "first", attributes: { lost: "no" } },
              update_mask: { paths: ["attributes"] },
            })
            .then(
              () => grpc.status.OK,
              (err: { code: grpc.status }) => err.code,
            );
          assert.ok([grpc.status.ABORTED, grpc.status.NOT_FOUND].includes(write), `write answered ${write}`);
          assert.equal(await crashing.stop(), 0);

          const healthy = await startServer({ mongodbUri, expectBootstrap: false });
          const db = new MongoClient(mongodbUri);
          const open = await db.db().collection("operations").countDocuments({ state: "open" });
          const live = await db
            .db()
            .collection("users")
            .find({ _id: { $in: ["first", "second", "renamed"] as never[] }, deleted_at: null })
            .toArray();
          await db.close();
          assert.equal(open, 0, "no journal left open");
          assert.ok(
            live.every((d) => d.operation === null),
            "no user left marked",
          );
          const survivor = operation === "merge" ? "second" : "renamed";
          assert.deepEqual(live.map((d) => d._id).sort(), [survivor, ...(operation === "merge" ? [] : ["second"])]);
          const found = await users(crashing.adminKey, healthy).call("Search", { email_contains: "first@example.com" });
          assert.equal((found.users ?? []).length, operation === "merge" ? 0 : 1, "one user per email address");
          assert.equal(await works(a.key, healthy), survivor);
          assert.deepEqual(await settingsOf({ ...healthy, adminKey: crashing.adminKey }, survivor), { theme: "dark" });
          const login = await access("", healthy).call("Authenticate", {
            user_id_or_email: operation === "merge" ? "first" : "first@example.com",
            password: "first passphrase",
          });
          assert.equal(login.user_id, survivor);
          await healthy.stop();
        });
      }
    }
  });

  describe("crash between steps", () => {
    const stepsOf = {
      merge: ["merge:journaled", "merge:attributes", "merge:settings", "merge:tokens"],
      rename: ["rename:journaled", "rename:copied", "rename:references", "rename:old-removed"],
    };
    for (const [operation, steps] of Object.entries(stepsOf)) {
      for (const step of steps) {
        it(`finishes a ${operation} that failed after ${step} when called again`, async () => {
          const mongodbUri = testDatabaseUri();
          const crashing = await startServer({ mongodbUri, env: { ROSTER_FAILPOINTS: step } });
          const a = await createUser(crashing, { userId: "first", password: "first passphrase" });
          await createUser(crashing, { userId: "second" });
          await setSetting(crashing, a.key, "first", "theme", "dark");
          await users(crashing.adminKey, crashing).call("Update", {
            user: { user_id: "first", attributes: { team: "red" } },
            update_mask: { paths: ["attributes"] },
          });
          const call = (s: TestServer) =>
            operation === "merge"
              ? users(s.adminKey, s).call("Merge", { old_user_id: "first", new_user_id: "second", redirect: true })
              : users(s.adminKey, s).call("Rename", { user_id: "first", new_user_id: "renamed" });
          await rejectsWith(call(crashing), grpc.status.INTERNAL);
          assert.equal(await crashing.stop(), 0);

          const healthy = await startServer({ mongodbUri, expectBootstrap: false });
          healthy.adminKey = crashing.adminKey;
          await call(healthy);
          const db = new MongoClient(mongodbUri);
          const docs = await db
            .db()
            .collection("users")
            .find({ _id: { $in: ["first", "second", "renamed"] as never[] } })
            .toArray();
          await db.close();
          assert.ok(
            docs.every((d) => d.operation === null),
            "no journal left behind",
          );
          if (operation === "merge") {
            assert.equal(await works(a.key, healthy), "second");
            assert.deepEqual(await settingsOf(healthy, "second"), { theme: "dark" });
            const { user } = await users(healthy.adminKey, healthy).call("Get", { user_id: "second" });
            assert.deepEqual(user.attributes, { team: "red" });
            assert.equal(
              (
                await access("", healthy).call("Authenticate", {
                  user_id_or_email: "first",
                  password: "first passphrase",
                })
              ).user_id,
              "second",
            );
          } else {
            assert.deepEqual(docs.map((d) => d._id).sort(), ["renamed", "second"]);
            assert.equal(await works(a.key, healthy), "renamed");
            assert.deepEqual(await settingsOf(healthy, "renamed"), { theme: "dark" });
            const login = await access("", healthy).call("Authenticate", {
              user_id_or_email: "first@example.com",
              password: "first passphrase",
            });
            assert.equal(login.user_id, "renamed");
          }
          await healthy.stop();
        });
      }
    }
  });
});
