import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { deriveFlags } from "../../cli/command-flags.js";
import { findMethod, loadRegistry } from "../../cli/descriptors.js";
import { claimName, enumValueName, flagName, setJsonPath, valueOption } from "../../cli/field-flags.js";
import { shapeOf } from "../../cli/method-shape.js";
import { buildRequest, draftRequest } from "../../cli/request-draft.js";
import type { RpcCommandSpec } from "../../cli/rpc-spec.js";

const registry = loadRegistry();
const users = "roster.v1.UserRegistry";

function flagsOf(spec: RpcCommandSpec) {
  const shape = shapeOf(findMethod(registry, spec.rpc), spec);
  return { shape, flags: deriveFlags(spec, shape) };
}

const names = (list: { name: string }[]) => list.map((f) => f.name);

describe("flags derived from the descriptors", () => {
  it("give a read one select flag per field, --all and --field-mask", () => {
    const { flags } = flagsOf({ command: "get", rpc: `${users}.Get`, args: ["user_id"] });
    assert.deepEqual(flags.args, ["user-id"]);
    for (const name of ["name", "primary-email-address", "state", "admin", "created-at"]) {
      assert.ok(names(flags.select).includes(name), name);
    }
    assert.ok("all" in flags.fixed && "field-mask" in flags.fixed);
    assert.deepEqual(flags.set, []);
  });

  it("give an update typed set flags for what can change, the etag, and --unset", () => {
    const { flags } = flagsOf({ command: "update", rpc: `${users}.Update`, args: ["user.user_id"] });
    const set = names(flags.set);
    for (const name of ["name", "description", "admin", "state", "attributes"]) assert.ok(set.includes(name), name);
    // The id is the argument; output-only and immutable fields have no flag.
    for (const name of ["user-id", "created-at", "updated-at", "etag", "password-updated-at"]) {
      assert.ok(!set.includes(name), name);
    }
    assert.equal(flags.etag?.name, "etag");
    assert.ok("unset" in flags.fixed);
  });

  it("give a list its filters and paging as request flags, and --all-pages", () => {
    const { flags } = flagsOf({ command: "list", rpc: `${users}.List` });
    for (const name of ["limit", "page", "order"]) assert.ok(names(flags.request).includes(name), name);
    assert.ok("all-pages" in flags.fixed);
  });

  it("rename a select flag that a filter of the same name holds, and say so", () => {
    const { flags } = flagsOf({ command: "search", rpc: `${users}.Search` });
    assert.ok(names(flags.request).includes("state"));
    assert.ok(names(flags.renamedSelect).includes("select-state"));
  });

  it("refuse an alias of a flag that does not exist", () => {
    assert.throws(
      () => flagsOf({ command: "list", rpc: `${users}.List`, flagAliases: { lim: "no-such-flag" } }),
      /no flag --no-such-flag/,
    );
  });
});

describe("requests drafted from flags", () => {
  it("put the set flags in the resource and in the update mask", () => {
    const spec: RpcCommandSpec = { command: "update", rpc: `${users}.Update`, args: ["user.user_id"] };
    const { shape, flags } = flagsOf(spec);
    const argv = { "user-id": "ada", name: "Ada", unset: ["description"] };
    const draft = draftRequest(registry, spec, shape, flags, argv);
    assert.deepEqual(draft.json, { user: { user_id: "ada", name: "Ada" } });
    assert.deepEqual(draft.updatePaths, ["name", "description"]);
    const request = buildRequest(shape, draft, registry) as unknown as { updateMask: { paths: string[] } };
    assert.deepEqual(request.updateMask.paths, ["name", "description"]);
  });

  it("refuse an update that changes nothing", () => {
    const spec: RpcCommandSpec = { command: "update", rpc: `${users}.Update`, args: ["user.user_id"] };
    const { shape, flags } = flagsOf(spec);
    assert.throws(() => draftRequest(registry, spec, shape, flags, { "user-id": "ada" }), /no fields to update/);
  });

  it("ask a read without field flags for the id only, and for everything with --all", () => {
    const spec: RpcCommandSpec = { command: "get", rpc: `${users}.Get`, args: ["user_id"] };
    const { shape, flags } = flagsOf(spec);
    assert.deepEqual(draftRequest(registry, spec, shape, flags, { "user-id": "ada" }).readPaths, ["user_id"]);
    assert.deepEqual(draftRequest(registry, spec, shape, flags, { "user-id": "ada", all: true }).readPaths, []);
    const selected = draftRequest(registry, spec, shape, flags, {
      "user-id": "ada",
      name: true,
      "field-mask": "state",
    });
    assert.deepEqual(selected.readPaths, ["name", "state"]);
  });

  it("switch to the batch method when the last argument is given several times", () => {
    const spec: RpcCommandSpec = {
      command: "get",
      rpc: `${users}.Get`,
      args: ["user_id"],
      many: { rpc: `${users}.BatchGet`, field: "user_ids" },
    };
    const { shape, flags } = flagsOf(spec);
    const draft = draftRequest(registry, spec, shape, flags, { "user-id": ["ada", "grace"] });
    assert.equal(draft.method.name, "BatchGet");
    assert.deepEqual(draft.json.user_ids, ["ada", "grace"]);
  });
});

describe("flag values", () => {
  const create = findMethod(registry, `${users}.Create`).input;
  const user = create.fields.find((f) => f.name === "user");
  assert.ok(user?.fieldKind === "message");
  const field = (name: string) => user.message.fields.find((f) => f.name === name) as never;

  it("take enum values by short name, in any case, with dashes", () => {
    const state = field("state") as { fieldKind: "enum"; enum: never };
    assert.equal(enumValueName(state.enum, "approved", "--state"), "STATE_APPROVED");
    assert.equal(enumValueName(state.enum, "STATE_SUSPENDED", "--state"), "STATE_SUSPENDED");
    assert.throws(() => enumValueName(state.enum, "unspecified", "--state"), /--state must be one of/);
  });

  it("turn key=value flags into a map, and refuse a flag without =", () => {
    const coerce = valueOption(field("attributes"), "--attributes").coerce as (v: unknown) => unknown;
    assert.deepEqual(coerce(["team=engines", "note=a=b"]), { team: "engines", note: "a=b" });
    assert.throws(() => coerce(["team"]), /--attributes takes key=value/);
  });

  it("read booleans as people write them", () => {
    const coerce = valueOption(field("admin"), "--admin").coerce as (v: unknown) => unknown;
    for (const yes of ["true", "yes", "1", true]) assert.equal(coerce(yes), true);
    for (const no of ["false", "NO", "0", false]) assert.equal(coerce(no), false);
    assert.throws(() => coerce("maybe"), /--admin must be true or false/);
  });

  it("read timestamps as RFC 3339 or as a duration ago", () => {
    const coerce = valueOption(field("created_at"), "--created-at").coerce as (v: unknown) => unknown;
    assert.equal(coerce("2024-05-01T12:00:00Z"), "2024-05-01T12:00:00Z");
    const ago = Date.parse(String(coerce("1h")));
    assert.ok(Math.abs(Date.now() - 3_600_000 - ago) < 60_000);
    assert.throws(() => coerce("yesterday"), /must be a Timestamp/);
  });

  it("name flags after their paths and keep the first holder of a name", () => {
    assert.equal(flagName("user.primary_email_address"), "user.primary-email-address");
    const taken = new Set(["state"]);
    assert.equal(claimName("state", "select", taken), "select-state");
    assert.equal(claimName("name", "select", taken), "name");
    assert.throws(() => claimName("state", "select", taken), /derived twice/);
  });

  it("put values at dotted paths, making the objects on the way", () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z_]{1,8}$/), { minLength: 1, maxLength: 4 }),
        fc.string(),
        (parts, v) => {
          const target: Record<string, unknown> = {};
          setJsonPath(target, parts.join("."), v);
          let node: unknown = target;
          for (const part of parts) node = (node as Record<string, unknown>)[part];
          assert.equal(node, v);
        },
      ),
    );
  });
});
