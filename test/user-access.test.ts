import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MongoClient } from "mongodb";
import { type GrpcClient, grpc, grpcClient, type Message, rejectsWith } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

const { UNAUTHENTICATED, PERMISSION_DENIED, FAILED_PRECONDITION, NOT_FOUND, INVALID_ARGUMENT } = grpc.status;

describe("UserAccess", () => {
  let server: TestServer;
  let db: MongoClient;
  let adminAccess: GrpcClient;
  let adminUsers: GrpcClient;
  const clients: GrpcClient[] = [];

  const access = (key?: string) => {
    const c = grpcClient(server, "roster.v1.UserAccess", key);
    clients.push(c);
    return c;
  };
  const users = (key?: string) => {
    const c = grpcClient(server, "roster.v1.UserRegistry", key);
    clients.push(c);
    return c;
  };
  const login = (userIdOrEmail: string, password: string) =>
    access().call("Authenticate", { user_id_or_email: userIdOrEmail, password });

  before(async () => {
    server = await startServer();
    db = new MongoClient(server.mongodbUri);
    adminAccess = access(server.adminKey);
    adminUsers = users(server.adminKey);
  });
  after(async () => {
    for (const c of clients) c.close();
    await db.close();
    await server.stop();
  });

  describe("passwords and login", () => {
    it("stores Argon2id PHC hashes with OWASP parameters, and no secret in the clear", async () => {
      const password = "correct horse battery staple";
      await createUser(server, { userId: "hashed", password });
      const { token } = await login("hashed", password);
      const { key } = await access(token).call("CreateAPIKey", { name: "for the dump" });
      const doc = await db
        .db()
        .collection("users")
        .findOne({ _id: "hashed" as never });
      assert.match(doc?.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      const dump = JSON.stringify(
        await Promise.all(
          (await db.db().listCollections().toArray()).map((c) => db.db().collection(c.name).find({}).toArray()),
        ),
      );
      for (const secret of [password, token, key]) assert.equal(dump.includes(secret), false, "secret in the database");
      assert.match(token, /^rst_lt_[0-9A-Za-z]{38}$/);
      assert.match(key, /^rst_ak_[0-9A-Za-z]{38}$/);
    });

    it("logs in by user id or email (any case) and the token acts as the user", async () => {
      await createUser(server, { userId: "logger", password: "a fine passphrase" });
      for (const id of ["logger", "Logger@Example.com"]) {
        const res = await login(id, "a fine passphrase");
        assert.equal(res.user_id, "logger");
        assert.equal(res.password_update_required, false);
        assert.ok(Number(res.expires_at.seconds) * 1000 > Date.now() + 23 * 3_600_000);
        const me = await users(res.token).call("GetCurrent", {});
        assert.equal(me.user.user_id, "logger");
        const rights = await access(res.token).call("ListRights", {});
        assert.equal(rights.token_kind, "login");
        assert.ok(rights.rights.includes("RIGHT_USER_INFO"));
        assert.equal(rights.rights.includes("RIGHT_ADMIN_USERS_READ"), false);
      }
    });

    it("answers every failed login with the same UNAUTHENTICATED message", async () => {
      await createUser(server, { userId: "no-password" });
      await createUser(server, { userId: "suspended-one", password: "a fine passphrase" });
      await adminUsers.call("Update", {
        user: { user_id: "suspended-one", state: "STATE_SUSPENDED" },
        update_mask: { paths: ["state"] },
      });
      const messages = new Set<string>();
      for (const [id, password] of [
        ["nobody-at-all", "a fine passphrase"],
        ["logger", "the wrong passphrase"],
        ["no-password", "a fine passphrase"],
        ["suspended-one", "a fine passphrase"],
        ["logger", ""],
      ]) {
        const err = await rejectsWith(login(id as string, password as string), UNAUTHENTICATED, "UNAUTHENTICATED");
        messages.add(err.details);
      }
      assert.equal(messages.size, 1);
    });

    it("gives users who must change their password a token that can only change it", async () => {
      await createUser(server, { userId: "forced" });
      const { temporary_password: temp } = await adminAccess.call("CreateTemporaryPassword", {
        user_id: "forced",
        send_email: false,
      });
      assert.equal(temp.length, 20);
      const res = await login("forced", temp);
      assert.equal(res.password_update_required, true);
      assert.deepEqual(res.rights, ["RIGHT_USER_PASSWORD"]);
      await rejectsWith(users(res.token).call("GetCurrent", {}), PERMISSION_DENIED, "MISSING_RIGHT");
      await rejectsWith(access(res.token).call("CreateAPIKey", { name: "sneaky" }), PERMISSION_DENIED);
      await access(res.token).call("UpdatePassword", { old_password: temp, new_password: "my very own passphrase" });
      // The default clear_tokens is LOGIN_ONLY: the restricted token is gone too.
      await rejectsWith(access(res.token).call("ListRights", {}), UNAUTHENTICATED);
      const fresh = await login("forced", "my very own passphrase");
      assert.equal(fresh.password_update_required, false);
      const me = await users(fresh.token).call("GetCurrent", { field_mask: { paths: ["require_password_update"] } });
      assert.equal(me.user.require_password_update, false);
    });

    it("checks the old password and the policy on UpdatePassword", async () => {
      const u = await createUser(server, { userId: "changer", password: "first passphrase" });
      const me = access(u.key);
      await rejectsWith(
        me.call("UpdatePassword", { old_password: "wrong one!", new_password: "second passphrase" }),
        UNAUTHENTICATED,
        "INCORRECT_PASSWORD",
      );
      for (const weak of ["short", "changer", "qwertyuiop", "changer@example.com"]) {
        await rejectsWith(
          me.call("UpdatePassword", { old_password: "first passphrase", new_password: weak }),
          INVALID_ARGUMENT,
        );
      }
      await me.call("UpdatePassword", { old_password: "first passphrase", new_password: "second passphrase" });
      await login("changer", "second passphrase");
      await rejectsWith(login("changer", "first passphrase"), UNAUTHENTICATED);
    });

    it("revokes the calling login token on Logout, and refuses Logout with an API key", async () => {
      await createUser(server, { userId: "leaver", password: "a fine passphrase" });
      const { token } = await login("leaver", "a fine passphrase");
      await access(token).call("Logout", {});
      await rejectsWith(access(token).call("ListRights", {}), UNAUTHENTICATED);
      await rejectsWith(adminAccess.call("Logout", {}), FAILED_PRECONDITION, "NOT_A_LOGIN_TOKEN");
    });
  });

  describe("API keys", () => {
    it("creates a key whose secret is shown once, lists and gets it without the secret", async () => {
      const u = await createUser(server, { userId: "keyholder" });
      const me = access(u.key);
      const created = await me.call("CreateAPIKey", { name: "ci", rights: ["RIGHT_USER_INFO"] });
      assert.match(created.key, /^rst_ak_/);
      assert.equal(created.api_key.user_id, "keyholder");
      assert.deepEqual(created.api_key.rights, ["RIGHT_USER_INFO"]);
      const list = await me.call("ListAPIKeys", { limit: 1 });
      assert.equal(Number(list.total_size), 2);
      assert.equal(list.api_keys.length, 1);
      assert.equal(list.api_keys[0].id, created.api_key.id, "newest first");
      assert.equal(JSON.stringify(list).includes("rst_ak_"), false);
      const got = await me.call("GetAPIKey", { id: created.api_key.id });
      assert.equal(got.api_key.name, "ci");
    });

    it("limits a key to its rights: USER_INFO can read but not update the user", async () => {
      const u = await createUser(server, { userId: "reader" });
      const { key } = await access(u.key).call("CreateAPIKey", { name: "read only", rights: ["RIGHT_USER_INFO"] });
      assert.equal((await users(key).call("GetCurrent", {})).user.user_id, "reader");
      await rejectsWith(
        users(key).call("Update", { user: { user_id: "reader", name: "x" }, update_mask: { paths: ["name"] } }),
        PERMISSION_DENIED,
        "MISSING_RIGHT",
      );
      await rejectsWith(access(key).call("CreateAPIKey", { name: "escalate" }), PERMISSION_DENIED);
    });

    it("never mints more rights than the creator holds or the user may hold", async () => {
      const u = await createUser(server, { userId: "climber" });
      await rejectsWith(
        access(u.key).call("CreateAPIKey", { name: "admin please", rights: ["RIGHT_ADMIN_ALL"] }),
        PERMISSION_DENIED,
        "RIGHTS_EXCEEDED",
      );
      const { key: narrow } = await access(u.key).call("CreateAPIKey", {
        name: "narrow",
        rights: ["RIGHT_USER_INFO", "RIGHT_USER_API_KEYS"],
      });
      await rejectsWith(
        access(narrow).call("CreateAPIKey", { name: "wider", rights: ["RIGHT_USER_SETTINGS"] }),
        PERMISSION_DENIED,
        "RIGHTS_EXCEEDED",
      );
      // An admin cannot give a non-admin admin rights either.
      await rejectsWith(
        adminAccess.call("CreateAPIKey", { user_id: "climber", name: "x", rights: ["RIGHT_ADMIN_USERS_READ"] }),
        PERMISSION_DENIED,
        "RIGHTS_EXCEEDED",
      );
    });

    it("lets admins grant keys to other users (REANA token-grant) and list and revoke them", async () => {
      await createUser(server, { userId: "granted" });
      const { key, api_key } = await adminAccess.call("CreateAPIKey", { user_id: "granted", name: "granted by admin" });
      assert.equal(api_key.created_by, "admin");
      assert.deepEqual([...api_key.rights].sort(), [
        "RIGHT_USER_API_KEYS",
        "RIGHT_USER_DELETE",
        "RIGHT_USER_INFO",
        "RIGHT_USER_PASSWORD",
        "RIGHT_USER_SETTINGS",
      ]);
      assert.equal((await users(key).call("GetCurrent", {})).user.user_id, "granted");
      const listed = await adminAccess.call("ListAPIKeys", { user_id: "granted" });
      assert.ok(listed.api_keys.some((k: Message) => k.id === api_key.id));
      await adminAccess.call("DeleteAPIKey", { user_id: "granted", id: api_key.id });
      await rejectsWith(users(key).call("GetCurrent", {}), UNAUTHENTICATED);
      await rejectsWith(
        adminAccess.call("DeleteAPIKey", { user_id: "granted", id: api_key.id }),
        NOT_FOUND,
        "API_KEY_NOT_FOUND",
      );
    });

    it("refuses other users' keys to non-admins", async () => {
      const u = await createUser(server, { userId: "nosy" });
      await rejectsWith(access(u.key).call("ListAPIKeys", { user_id: "granted" }), PERMISSION_DENIED);
      await rejectsWith(access(u.key).call("CreateAPIKey", { user_id: "granted", name: "x" }), PERMISSION_DENIED);
    });

    it("updates a key's name, rights and expiry by field mask, and expired keys fail", async () => {
      const u = await createUser(server, { userId: "updater" });
      const me = access(u.key);
      const { api_key, key } = await me.call("CreateAPIKey", { name: "old name", rights: ["RIGHT_USER_INFO"] });
      const soon = { seconds: Math.floor(Date.now() / 1000) + 2, nanos: 0 };
      const updated = await me.call("UpdateAPIKey", {
        api_key: {
          id: api_key.id,
          name: "new name",
          rights: ["RIGHT_USER_INFO", "RIGHT_USER_SETTINGS"],
          expires_at: soon,
        },
        update_mask: { paths: ["name", "expires_at"] },
      });
      assert.equal(updated.api_key.name, "new name");
      assert.deepEqual(updated.api_key.rights, ["RIGHT_USER_INFO"], "rights were not in the mask");
      assert.equal(Number(updated.api_key.expires_at.seconds), soon.seconds);
      assert.equal((await users(key).call("GetCurrent", {})).user.user_id, "updater");
      await rejectsWith(
        me.call("UpdateAPIKey", { api_key: { id: api_key.id }, update_mask: { paths: ["created_by"] } }),
        INVALID_ARGUMENT,
      );
      await new Promise((r) => setTimeout(r, 2500));
      await rejectsWith(users(key).call("GetCurrent", {}), UNAUTHENTICATED);
    });

    it("records when a key was last used", async () => {
      const u = await createUser(server, { userId: "user-of-keys" });
      await users(u.key).call("GetCurrent", {});
      const { api_keys } = await access(u.key).call("ListAPIKeys", {});
      assert.ok(api_keys[0].last_used_at, "last_used_at is set");
      assert.ok(Math.abs(Number(api_keys[0].last_used_at.seconds) * 1000 - Date.now()) < 60_000);
    });
  });

  describe("revocation", () => {
    let keySets = 0;
    async function tokensOf(userId: string, password: string) {
      const login1 = (await login(userId, password)).token;
      const login2 = (await login(userId, password)).token;
      // Key names are unique per user; a user may get several sets.
      const set = ++keySets;
      const key1 = (await access(login1).call("CreateAPIKey", { name: `k1 of set ${set}` })).key;
      const key2 = (await access(login1).call("CreateAPIKey", { name: `k2 of set ${set}` })).key;
      return { login1, login2, key1, key2 };
    }
    const works = async (token: string) => {
      try {
        await access(token).call("ListRights", {});
        return true;
      } catch (err) {
        assert.equal((err as { code: number }).code, UNAUTHENTICATED);
        return false;
      }
    };
    const state = async (t: Record<string, string>) =>
      Object.fromEntries(await Promise.all(Object.entries(t).map(async ([k, v]) => [k, await works(v)])));

    it("revokes login tokens only, API keys only, or both, exactly as asked", async () => {
      await createUser(server, { userId: "revoker", password: "a fine passphrase" });
      let t = await tokensOf("revoker", "a fine passphrase");
      let res = await access(t.key1).call("RevokeTokens", { kind: "TOKEN_KIND_LOGIN" });
      assert.deepEqual([res.login_tokens_revoked, res.api_keys_revoked], ["2", "0"]);
      assert.deepEqual(await state(t), { login1: false, login2: false, key1: true, key2: true });
      res = await access(t.key1).call("RevokeTokens", { kind: "TOKEN_KIND_API_KEY" });
      assert.ok(Number(res.api_keys_revoked) >= 2);
      assert.deepEqual(await state(t), { login1: false, login2: false, key1: false, key2: false });
      t = await tokensOf("revoker", "a fine passphrase");
      res = await adminAccess.call("RevokeTokens", { user_id: "revoker", kind: "TOKEN_KIND_ALL" });
      assert.deepEqual(await state(t), { login1: false, login2: false, key1: false, key2: false });
    });

    it("revokes only tokens issued before a time", async () => {
      await createUser(server, { userId: "timed", password: "a fine passphrase" });
      const old = await tokensOf("timed", "a fine passphrase");
      await new Promise((r) => setTimeout(r, 1100));
      const cut = { seconds: Math.floor(Date.now() / 1000), nanos: 0 };
      await new Promise((r) => setTimeout(r, 1100));
      const fresh = await tokensOf("timed", "a fine passphrase");
      await adminAccess.call("RevokeTokens", { user_id: "timed", issued_before: cut });
      assert.deepEqual(await state(old), { login1: false, login2: false, key1: false, key2: false });
      assert.deepEqual(await state(fresh), { login1: true, login2: true, key1: true, key2: true });
    });

    it("clears tokens on a password change as clear_tokens says (NONE, LOGIN_ONLY, ALL)", async () => {
      await createUser(server, { userId: "clearer", password: "passphrase number 0" });
      const expected: Record<string, Record<string, boolean>> = {
        CLEAR_TOKENS_NONE: { login1: true, login2: true, key1: true, key2: true },
        CLEAR_TOKENS_LOGIN_ONLY: { login1: false, login2: false, key1: true, key2: true },
        CLEAR_TOKENS_ALL: { login1: false, login2: false, key1: false, key2: false },
      };
      let n = 0;
      for (const [clear, after] of Object.entries(expected)) {
        const t = await tokensOf("clearer", `passphrase number ${n}`);
        await access(t.login1).call("UpdatePassword", {
          old_password: `passphrase number ${n}`,
          new_password: `passphrase number ${n + 1}`,
          clear_tokens: clear,
        });
        n++;
        assert.deepEqual(await state(t), after, clear);
        // API keys only: an admin's revocation of login tokens would require a new password.
        await adminAccess.call("RevokeTokens", { user_id: "clearer", kind: "TOKEN_KIND_API_KEY" });
      }
    });

    it("resets a password (Conch's admin reset): a temporary one, a forced change, tokens cleared", async () => {
      await createUser(server, { userId: "reset-me", password: "a fine passphrase" });
      const t = await tokensOf("reset-me", "a fine passphrase");
      const res = await adminAccess.call("CreateTemporaryPassword", {
        user_id: "reset-me",
        clear_tokens: "CLEAR_TOKENS_ALL",
        send_email: false,
      });
      assert.deepEqual(await state(t), { login1: false, login2: false, key1: false, key2: false });
      await rejectsWith(login("reset-me", "a fine passphrase"), UNAUTHENTICATED);
      assert.equal((await login("reset-me", res.temporary_password)).password_update_required, true);
      const u = await createUser(server, { userId: "not-admin" });
      await rejectsWith(access(u.key).call("CreateTemporaryPassword", { user_id: "reset-me" }), PERMISSION_DENIED);
    });
  });

  describe("token requests (REANA)", () => {
    it("goes from request to grant to a key the requester retrieves once", async () => {
      const u = await createUser(server, { userId: "requester" });
      const me = access(u.key);
      const { token_request: request } = await me.call("CreateTokenRequest", {
        name: "analysis",
        rights: ["RIGHT_USER_INFO"],
        reason: "to run my workflows",
      });
      assert.equal(request.status, "TOKEN_REQUEST_STATUS_PENDING");
      const pending = await adminAccess.call("ListTokenRequests", {
        all_users: true,
        status: "TOKEN_REQUEST_STATUS_PENDING",
      });
      assert.ok(pending.token_requests.some((r: Message) => r.id === request.id && r.reason === "to run my workflows"));
      await rejectsWith(
        me.call("RetrieveTokenRequestKey", { id: request.id }),
        FAILED_PRECONDITION,
        "TOKEN_REQUEST_STATE",
      );
      const granted = await adminAccess.call("GrantTokenRequest", { id: request.id, note: "ok" });
      assert.equal(granted.token_request.status, "TOKEN_REQUEST_STATUS_GRANTED");
      assert.equal(granted.token_request.decided_by, "admin");
      const { key, api_key } = await me.call("RetrieveTokenRequestKey", { id: request.id });
      assert.deepEqual(api_key.rights, ["RIGHT_USER_INFO"]);
      assert.equal((await users(key).call("GetCurrent", {})).user.user_id, "requester");
      await rejectsWith(me.call("RetrieveTokenRequestKey", { id: request.id }), FAILED_PRECONDITION);
      const mine = await me.call("GetTokenRequest", { id: request.id });
      assert.equal(mine.token_request.status, "TOKEN_REQUEST_STATUS_RETRIEVED");
      assert.equal(mine.token_request.api_key_id, api_key.id);
      // The admin revokes it later.
      await adminAccess.call("DeleteAPIKey", { user_id: "requester", id: api_key.id });
      await rejectsWith(users(key).call("GetCurrent", {}), UNAUTHENTICATED);
    });

    it("approves a requester awaiting approval with the grant (REANA), unless told not to", async () => {
      for (const [id, approve] of [
        ["reana-waiting", undefined],
        ["reana-kept", false],
      ] as const) {
        await adminUsers.call("Create", {
          user: { user_id: id, primary_email_address: `${id}@example.com`, state: "STATE_REQUESTED" },
          password: "a fine passphrase",
        });
        const { token } = await login(id, "a fine passphrase");
        const { token_request: request } = await access(token).call("CreateTokenRequest", {
          name: "workflows",
          reason: "to run my workflows",
        });
        await adminAccess.call("GrantTokenRequest", {
          id: request.id,
          ...(approve === undefined ? {} : { approve_user: approve }),
        });
        const { user } = await adminUsers.call("Get", { user_id: id, field_mask: { paths: ["state"] } });
        if (approve === false) {
          assert.equal(user.state, "STATE_REQUESTED");
          await rejectsWith(access(token).call("RetrieveTokenRequestKey", { id: request.id }), PERMISSION_DENIED);
        } else {
          assert.equal(user.state, "STATE_APPROVED");
          const { key } = await access(token).call("RetrieveTokenRequestKey", { id: request.id });
          assert.equal((await users(key).call("GetCurrent", {})).user.user_id, id, "the key works at once");
        }
      }
    });

    it("lets admins deny a request with a note, once", async () => {
      const u = await createUser(server, { userId: "denied" });
      const { token_request: request } = await access(u.key).call("CreateTokenRequest", {
        name: "x",
        reason: "please",
      });
      const denied = await adminAccess.call("DenyTokenRequest", { id: request.id, note: "not now" });
      assert.equal(denied.token_request.status, "TOKEN_REQUEST_STATUS_DENIED");
      assert.equal(denied.token_request.decision_note, "not now");
      await rejectsWith(adminAccess.call("GrantTokenRequest", { id: request.id }), FAILED_PRECONDITION);
    });

    it("hides requests from other users, and refuses admin rights to non-admins", async () => {
      const a = await createUser(server, { userId: "req-a" });
      const b = await createUser(server, { userId: "req-b" });
      const { token_request: request } = await access(a.key).call("CreateTokenRequest", { name: "x", reason: "r" });
      await rejectsWith(access(b.key).call("GetTokenRequest", { id: request.id }), NOT_FOUND);
      await rejectsWith(access(b.key).call("ListTokenRequests", { all_users: true }), PERMISSION_DENIED);
      await rejectsWith(access(b.key).call("GrantTokenRequest", { id: request.id }), PERMISSION_DENIED);
      await rejectsWith(
        access(b.key).call("CreateTokenRequest", { name: "x", reason: "r", rights: ["RIGHT_ADMIN_ALL"] }),
        PERMISSION_DENIED,
        "RIGHTS_EXCEEDED",
      );
      const own = await access(b.key).call("ListTokenRequests", {});
      assert.equal(Number(own.total_size), 0);
    });

    it("grants a request to exactly one of two concurrent decisions", async () => {
      const u = await createUser(server, { userId: "contested-req" });
      const { token_request: request } = await access(u.key).call("CreateTokenRequest", { name: "x", reason: "r" });
      const results = await Promise.allSettled([
        adminAccess.call("GrantTokenRequest", { id: request.id }),
        adminAccess.call("DenyTokenRequest", { id: request.id }),
        adminAccess.call("GrantTokenRequest", { id: request.id }),
      ]);
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    });
  });
});
