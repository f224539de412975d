import type http from "node:http";
import type http2 from "node:http2";
import { create, type DescMessage, type DescMethod, type MessageShape } from "@bufbuild/protobuf";
import { createContextValues, createHandlerContext, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { scimPatch } from "scim-patch";
import { Right } from "../../gen/roster/v1/rights_pb.js";
import { ClearTokens } from "../../gen/roster/v1/user_access_pb.js";
import { State, type User, UserSchema } from "../../gen/roster/v1/user_pb.js";
import { UserRegistry } from "../../gen/roster/v1/user_registry_pb.js";
import { errUserIdTaken, invalidArgument } from "../../shared/errors.js";
import { authenticate } from "../access/authenticate.js";
import { type Caller, callerKey, clientAddressKey, requireCaller } from "../access/caller.js";
import { type PasswordHasher, type PasswordPolicy, requireAcceptablePassword } from "../access/passwords.js";
import { setPassword } from "../access/set-password.js";
import type { OwnChange } from "../events/event-interceptor.js";
import type { Logger } from "../log.js";
import { requestProblems } from "../request-rules.js";
import type { Store } from "../store/store.js";
import { type UserDocument, userDocumentFields, userFromDocument } from "../store/user-documents.js";
import type { UserOrderField } from "../store/user-lists.js";
import { userIdProblem } from "../users/user-validation.js";
import { ScimError, scimErrorOf } from "./scim-error.js";
import { conditionOfFilter } from "./scim-filter.js";
import {
  coreUserSchema,
  enterpriseUserSchema,
  listResponseSchema,
  maxResults,
  patchOpSchema,
  schemas,
  searchRequestSchema,
  serviceProviderConfig,
  userResourceType,
} from "./scim-schemas.js";
import { booleanOf, mergedAttributes, type RosterFields, rosterFieldsOf, scimUserOf, weakEtag } from "./scim-users.js";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/** The named request headers, as one Headers. */
function headersOf(req: Request, names: string[]): Headers {
  const headers = new Headers();
  for (const name of names) {
    const value = req.headers[name];
    if (typeof value === "string") headers.set(name, value);
  }
  return headers;
}

/** Where the SCIM service is served. */
export const scimPrefix = "/scim/v2";

export interface ScimServiceDeps {
  store: Store;
  /** The UserRegistry implementation the gRPC API serves: every change goes through it. */
  registry: ServiceImpl<typeof UserRegistry>;
  /** Records a change SCIM makes past the registry (a password set) as an event. */
  record: <T>(ctx: HandlerContext, change: OwnChange, run: () => Promise<T>) => Promise<T>;
  /** Base URL of the server as clients reach it (`--public-url`). */
  publicUrl: string;
  /** The server's password hasher and policy: a SCIM password is checked and stored as the gRPC API does. */
  hasher: PasswordHasher;
  passwordPolicy: PasswordPolicy;
  isCommonPassword: (password: string) => boolean;
  maxRequestBytes: number;
  defaultDeadlineMs: number;
  isReady: () => boolean;
  log: Logger;
}

/** Default page size of a list without `count`. */
const defaultCount = 100;

/** SCIM sortBy paths (lower-cased) and the Roster order each means. */
const sortFields: Record<string, UserOrderField> = {
  id: "user_id",
  username: "user_id",
  displayname: "name",
  "name.formatted": "name",
  emails: "primary_email_address",
  "emails.value": "primary_email_address",
  "meta.created": "created_at",
  active: "state",
};

/**
 * Serve SCIM 2.0 (RFC 7643, 7644) for users under /scim/v2. Callers need an
 * API key with RIGHT_SCIM; their requests then act as admin user reads and
 * writes of the registry, which holds the policy (validation, last-admin
 * guard, email uniqueness, notifications) as it does for the gRPC API.
 */
export function scimService(deps: ScimServiceDeps): (req: Request, res: Response) => void {
  // Listening on port 0 without --public-url: the address the client used.
  const configuredBase = /:0$/.test(deps.publicUrl) ? undefined : `${deps.publicUrl.replace(/\/+$/, "")}${scimPrefix}`;
  let base = configuredBase ?? "";
  return (req, res) => {
    base = configuredBase ?? `http://${req.headers.host ?? req.headers[":authority"] ?? "localhost"}${scimPrefix}`;
    const started = performance.now();
    let caller: string | undefined;
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      const text = body === undefined ? "" : JSON.stringify(body);
      res.writeHead(status, {
        ...(body === undefined ? {} : { "content-type": "application/scim+json; charset=utf-8" }),
        ...headers,
      });
      res.end(text);
      deps.log.info(
        {
          method: `SCIM ${req.method} ${(req.url ?? "").split("?")[0]}`,
          status,
          caller,
          ms: Math.round(performance.now() - started),
        },
        "scim",
      );
    };
    handle(req, (c) => {
      caller = c;
    }).then(
      (answer) => send(answer.status, answer.body, answer.headers),
      (err) => {
        const scim = scimErrorOf(err);
        if (!scim) deps.log.error({ err }, "scim: unexpected error");
        const error = scim ?? new ScimError(500, "internal error");
        send(error.status, error.body(), error.status === 401 ? { "www-authenticate": 'Bearer realm="roster"' } : {});
      },
    );
  };

  async function handle(req: Request, onCaller: (userId: string) => void): Promise<Answer> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname.slice(scimPrefix.length).replace(/\/+$/, "");
    const method = req.method ?? "GET";
    if (!deps.isReady()) throw new ScimError(503, "the server is starting or stopping; retry shortly");
    const found = await authenticate(deps.store, req.headers.authorization ?? null);
    if (!found) throw new ScimError(401, "an API key with RIGHT_SCIM is required (Authorization: Bearer <key>)");
    onCaller(found.userId);
    if (!found.rights.has(Right.SCIM)) throw new ScimError(403, "the API key does not hold RIGHT_SCIM");
    const ctx = contextFor(found, req);

    const segments = path.split("/").filter(Boolean).map(decodeURIComponent);
    const [collection, id, ...rest] = segments;
    const allow = (...methods: string[]) => {
      if (!methods.includes(method)) throw new ScimError(405, `${method} is not allowed on ${url.pathname}`);
    };
    if (collection === ".search" && !id) {
      allow("POST");
      return listUsers(searchParameters(await readJson(req, deps.maxRequestBytes)), ctx);
    }
    switch (collection) {
      case "ServiceProviderConfig":
        allow("GET");
        if (id) break;
        return ok(serviceProviderConfig(base));
      case "ResourceTypes":
        allow("GET");
        if (!id) return ok(listOf([userResourceType(base)]));
        if (id === "User" && rest.length === 0) return ok(userResourceType(base));
        break;
      case "Schemas": {
        allow("GET");
        const all = schemas(base);
        if (!id) return ok(listOf(all));
        const schema = all.find((s) => s.id === id);
        if (schema && rest.length === 0) return ok(schema);
        break;
      }
      case "Users":
        if (id === ".search" && rest.length === 0) {
          allow("POST");
          return listUsers(searchParameters(await readJson(req, deps.maxRequestBytes)), ctx);
        }
        if (!id) {
          allow("GET", "POST");
          if (method === "GET") return listUsers(queryParameters(url.searchParams), ctx);
          return createUser(await readJson(req, deps.maxRequestBytes), ctx);
        }
        if (rest.length > 0) break;
        allow("GET", "PUT", "PATCH", "DELETE");
        if (userIdProblem(id)) throw notFound(id);
        if (method === "GET") {
          const user = await getUser(id, ctx);
          return ok(shape(scimUserOf(user, base), attributeSelection(url.searchParams)), {
            etag: weakEtag(user.etag),
          });
        }
        if (method === "DELETE") {
          await deps.registry.delete(create(UserRegistry.method.delete.input, { userId: id, etag: ifMatch(req) }), ctx);
          return { status: 204 };
        }
        if (method === "PUT") return replaceUser(id, await readJson(req, deps.maxRequestBytes), ifMatch(req), ctx);
        return patchUser(id, await readJson(req, deps.maxRequestBytes), ifMatch(req), ctx);
      default:
        break;
    }
    throw new ScimError(404, `${url.pathname} is not a SCIM endpoint of this server`);
  }

  /** A handler context for the registry: the caller, acting with the admin user rights RIGHT_SCIM stands for. */
  function contextFor(found: Caller, req: Request): HandlerContext {
    const contextValues = createContextValues();
    contextValues.set(clientAddressKey, req.socket?.remoteAddress ?? "");
    contextValues.set(callerKey, { ...found, rights: new Set([Right.ADMIN_USERS_READ, Right.ADMIN_USERS_WRITE]) });
    return createHandlerContext({
      service: UserRegistry,
      method: UserRegistry.method.update,
      protocolName: "scim",
      requestMethod: req.method ?? "GET",
      url: req.url ?? "/",
      timeoutMs: deps.defaultDeadlineMs,
      contextValues,
      // Who asked, for the events of the changes (never the authorization).
      requestHeader: headersOf(req, ["user-agent", "x-request-id"]),
    });
  }

  /** A registry request, checked by the rules every gRPC request follows (lengths, characters). */
  function request<D extends DescMessage>(method: DescMethod & { input: D }, init: Parameters<typeof create<D>>[1]) {
    const message = create(method.input, init) as MessageShape<D>;
    const problems = requestProblems(method.input, message);
    if (problems.length > 0) throw invalidArgument(problems);
    return message;
  }

  async function getUser(id: string, ctx: HandlerContext): Promise<User> {
    const res = await deps.registry.get(request(UserRegistry.method.get, { userId: id }), ctx);
    return create(UserSchema, res.user);
  }

  function userAnswer(user: User, status = 200): Answer {
    return {
      status,
      body: scimUserOf(user, base),
      headers: {
        etag: weakEtag(user.etag),
        ...(status === 201 ? { location: `${base}/Users/${user.userId}` } : {}),
      },
    };
  }

  async function createUser(body: unknown, ctx: HandlerContext): Promise<Answer> {
    const fields = rosterFieldsOf(body);
    // A derived id may be taken by somebody else: the next free suffix wins.
    for (let attempt = 1; ; attempt++) {
      const userId = attempt === 1 ? fields.userId : `${fields.userId}-${attempt}`;
      try {
        const res = await deps.registry.create(
          request(UserRegistry.method.create, {
            user: {
              userId,
              name: fields.name,
              primaryEmailAddress: fields.email,
              attributes: fields.attributes,
              state: fields.active ? State.APPROVED : State.SUSPENDED,
              stateDescription: fields.active ? "" : "deactivated by SCIM",
            },
            password: fields.password ?? "",
          }),
          ctx,
        );
        return userAnswer(create(UserSchema, res.user), 201);
      } catch (err) {
        if (!fields.derived || !errUserIdTaken.is(err) || attempt >= 20) throw err;
      }
    }
  }

  /**
   * Apply a whole resource to user `id`: one registry Update with the paths
   * that change, guarded by the etag (the client's If-Match, or the one read).
   */
  async function applyFields(current: User, fields: RosterFields, etag: string, ctx: HandlerContext): Promise<User> {
    const password =
      fields.password &&
      requireAcceptablePassword(fields.password, deps, { userId: current.userId, email: fields.email }, "password");
    const attributes = mergedAttributes(current.attributes, fields.attributes);
    const state = fields.active ? State.APPROVED : State.SUSPENDED;
    const wasActive = current.state === State.APPROVED;
    // A REQUESTED user holds restricted keys: deactivating suspends it.
    const deactivatesRequested = !fields.active && fields.activeGiven && current.state === State.REQUESTED;
    const paths: string[] = [];
    if (fields.name !== current.name) paths.push("name");
    if (fields.email !== current.primaryEmailAddress) paths.push("primary_email_address");
    if (JSON.stringify(sortedEntries(attributes)) !== JSON.stringify(sortedEntries(current.attributes))) {
      paths.push("attributes");
    }
    if (fields.active !== wasActive || deactivatesRequested) paths.push("state", "state_description");
    let user = current;
    if (paths.length > 0) {
      await deps.registry.update(
        request(UserRegistry.method.update, {
          user: {
            userId: current.userId,
            name: fields.name,
            primaryEmailAddress: fields.email,
            attributes,
            state,
            stateDescription: fields.active ? "" : "deactivated by SCIM",
            etag,
          },
          updateMask: { paths },
        }),
        ctx,
      );
      user = await getUser(current.userId, ctx);
    } else if (etag && etag !== current.etag) {
      throw new ScimError(412, `user ${current.userId} has changed since etag ${etag}`);
    }
    if (password && !(await hasPassword(current.userId, password))) {
      // As an admin sets one (UserAccess.CreateTemporaryPassword), but the
      // identity provider's password is the user's own: no change is forced.
      await deps.record(
        ctx,
        { name: "password.update", userId: current.userId, paths: ["password"], method: "scim /Users" },
        () =>
          setPassword(deps.store, deps.hasher, current.userId, {
            password,
            requirePasswordUpdate: false,
            clearTokens: ClearTokens.LOGIN_ONLY,
            actor: requireCaller(ctx).userId,
            etag: user.etag,
          }),
      );
      user = await getUser(current.userId, ctx);
    }
    return user;
  }

  /** Whether `password` is the user's password already (a PUT that resends it revokes nothing). */
  async function hasPassword(userId: string, password: string): Promise<boolean> {
    const doc = await deps.store.users.getDocument(userId);
    return !!doc?.password_hash && (await deps.hasher.verify(doc.password_hash, password)).ok;
  }

  async function replaceUser(id: string, body: unknown, etag: string, ctx: HandlerContext): Promise<Answer> {
    const current = await getUser(id, ctx);
    if (etag && etag !== current.etag) throw new ScimError(412, `user ${id} has changed since etag ${etag}`);
    const fields = rosterFieldsOf(body);
    if (fields.userId !== id && !fields.derived) {
      throw new ScimError(400, "userName is the Roster user id, which cannot change", "mutability");
    }
    return userAnswer(await applyFields(current, { ...fields, userId: id }, etag || current.etag, ctx));
  }

  async function patchUser(id: string, body: unknown, etag: string, ctx: HandlerContext): Promise<Answer> {
    const operations = patchOperations(body);
    for (let attempt = 0; ; attempt++) {
      const current = await getUser(id, ctx);
      if (etag && etag !== current.etag) throw new ScimError(412, `user ${id} has changed since etag ${etag}`);
      const resource = scimUserOf(current, base);
      let patched: Record<string, unknown> = resource as unknown as Record<string, unknown>;
      try {
        for (const operation of operations) {
          // scim-patch does not take a whole extension by its schema URN as a path.
          if (operation.path?.toLowerCase() === enterpriseUserSchema.toLowerCase()) {
            const { [enterpriseUserSchema]: old, ...rest } = patched;
            const value = operation.value && typeof operation.value === "object" ? operation.value : {};
            if (operation.op === "remove") patched = rest;
            else if (operation.op === "add")
              patched = { ...rest, [enterpriseUserSchema]: { ...(old as object), ...value } };
            else patched = { ...rest, [enterpriseUserSchema]: value };
            continue;
          }
          patched = scimPatch(patched as never, [operation] as never, {
            mutateDocument: false,
            treatMissingAsAdd: true,
          });
        }
      } catch (err) {
        const e = err as { message?: string; scimType?: string; scimCode?: string; constructor?: { name?: string } };
        const type =
          e.constructor?.name === "NoTarget"
            ? "noTarget"
            : e.scimType === "invalidPath"
              ? "invalidPath"
              : "invalidValue";
        throw new ScimError(400, e.message ?? "invalid patch", type);
      }
      const activeGiven = operations.some((o) => /^(.*:)?active$/i.test(o.path ?? ""));
      const fields = { ...rosterFieldsOf(patched), userId: id, activeGiven };
      try {
        return userAnswer(await applyFields(current, fields, etag || current.etag, ctx));
      } catch (err) {
        // Somebody else changed the user between the read and the write: read again.
        const scim = scimErrorOf(err);
        if (etag || scim?.status !== 412 || attempt >= 3) throw err;
      }
    }
  }

  async function listUsers(params: ListParameters, ctx: HandlerContext): Promise<Answer> {
    void ctx;
    const condition = params.filter ? conditionOfFilter(params.filter) : undefined;
    const order = params.sortBy ? sortFields[params.sortBy.toLowerCase()] : "user_id";
    if (!order) throw new ScimError(400, `cannot sort by ${params.sortBy}`, "invalidValue");
    const count = Math.min(Math.max(params.count ?? defaultCount, 0), maxResults);
    const startIndex = Math.max(params.startIndex ?? 1, 1);
    const page = await deps.store.users.list({
      filter: { deleted: false, condition },
      order: { field: order, descending: params.sortOrder?.toLowerCase() === "descending" },
      skip: startIndex - 1,
      limit: count,
      fields: userDocumentFields.filter((f) => f !== "user_id" && f !== "created_at" && f !== "updated_at"),
      count: "exact",
      maxTimeMS: deps.defaultDeadlineMs,
    });
    const resources = count === 0 ? [] : page.users.map((d: Partial<UserDocument>) => userFromDocument(d));
    return ok({
      schemas: [listResponseSchema],
      totalResults: page.total,
      startIndex,
      itemsPerPage: resources.length,
      Resources: resources.map((u) => shape(scimUserOf(u, base), params.selection)),
    });
  }
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

function ok(body: unknown, headers: Record<string, string> = {}): Answer {
  return { status: 200, body, headers };
}

function listOf(resources: unknown[]) {
  return {
    schemas: [listResponseSchema],
    totalResults: resources.length,
    startIndex: 1,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

function notFound(id: string): ScimError {
  return new ScimError(404, `user ${id} not found`);
}

function sortedEntries(record: Record<string, string>) {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The etag of an If-Match header (`W/"x"` or `"x"`), or "" for none or `*`. */
function ifMatch(req: Request): string {
  const header = req.headers["if-match"];
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value || value === "*") return "";
  return value.replace(/^W\//, "").replace(/^"|"$/g, "");
}

async function readJson(req: Request, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new ScimError(413, `the request is larger than ${maxBytes} bytes`, "tooMany");
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new ScimError(400, "the request body is not JSON", "invalidSyntax");
  }
}

/** Which attributes to return (RFC 7644 section 3.4.2.5). */
interface AttributeSelection {
  attributes?: string[];
  excludedAttributes?: string[];
}

interface ListParameters {
  filter?: string;
  startIndex?: number;
  count?: number;
  sortBy?: string;
  sortOrder?: string;
  selection: AttributeSelection;
}

function integer(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new ScimError(400, `${name} must be an integer`, "invalidValue");
  return n;
}

function attributeList(value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const list = Array.isArray(value) ? value.map(String) : String(value).split(",");
  return list.map((s) => s.trim()).filter(Boolean);
}

function attributeSelection(params: URLSearchParams): AttributeSelection {
  return {
    attributes: attributeList(params.get("attributes") ?? undefined),
    excludedAttributes: attributeList(params.get("excludedAttributes") ?? undefined),
  };
}

function queryParameters(params: URLSearchParams): ListParameters {
  return {
    filter: params.get("filter") ?? undefined,
    startIndex: integer(params.get("startIndex"), "startIndex"),
    count: integer(params.get("count"), "count"),
    sortBy: params.get("sortBy") ?? undefined,
    sortOrder: params.get("sortOrder") ?? undefined,
    selection: attributeSelection(params),
  };
}

function searchParameters(body: unknown): ListParameters {
  const b = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  const schemasOf = b.schemas;
  if (Array.isArray(schemasOf) && !schemasOf.includes(searchRequestSchema)) {
    throw new ScimError(400, `a search request has the schema ${searchRequestSchema}`, "invalidSyntax");
  }
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return {
    filter: str(b.filter),
    startIndex: integer(b.startIndex, "startIndex"),
    count: integer(b.count, "count"),
    sortBy: str(b.sortBy),
    sortOrder: str(b.sortOrder),
    selection: { attributes: attributeList(b.attributes), excludedAttributes: attributeList(b.excludedAttributes) },
  };
}

/** Attributes always returned, whatever the selection. */
const alwaysReturned = new Set(["id", "schemas", "meta"]);

/** Strip the schema URN of a core attribute path; keep extension paths whole. */
function selectionPath(path: string): string[] {
  const lower = path.toLowerCase();
  const core = `${coreUserSchema.toLowerCase()}:`;
  return (lower.startsWith(core) ? lower.slice(core.length) : lower).split(/\.(?![^:]*:)/);
}

/** A resource with only the selected attributes (`attributes`), or without the excluded ones. */
function shape<T extends object>(resource: T, selection: AttributeSelection): Partial<T> {
  if (!selection.attributes && !selection.excludedAttributes) return resource;
  const out: Record<string, unknown> = {};
  const wanted = selection.attributes?.map(selectionPath);
  const excluded = selection.excludedAttributes?.map(selectionPath) ?? [];
  for (const [key, value] of Object.entries(resource)) {
    const k = key.toLowerCase();
    if (alwaysReturned.has(k)) {
      out[key] = value;
      continue;
    }
    if (wanted) {
      const subs = wanted.filter((p) => p[0] === k);
      if (subs.length === 0) continue;
      if (subs.some((p) => p.length === 1) || !value || typeof value !== "object") {
        out[key] = value;
      } else {
        const pick = (v: Record<string, unknown>) =>
          Object.fromEntries(Object.entries(v).filter(([s]) => subs.some((p) => p[1] === s.toLowerCase())));
        out[key] = Array.isArray(value) ? value.map(pick) : pick(value as Record<string, unknown>);
      }
      continue;
    }
    const drop = excluded.filter((p) => p[0] === k);
    if (drop.some((p) => p.length === 1)) continue;
    if (drop.length > 0 && value && typeof value === "object") {
      const omit = (v: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(v).filter(([s]) => !drop.some((p) => p[1] === s.toLowerCase())));
      out[key] = Array.isArray(value) ? value.map(omit) : omit(value as Record<string, unknown>);
    } else {
      out[key] = value;
    }
  }
  return out as Partial<T>;
}

/**
 * The operations of a PATCH request, in the shape scim-patch takes: `op` in
 * lower case (Entra sends "Replace"), `active` values as booleans (Entra
 * sends "False"), and an operation without a path that carries an object
 * split into one operation per attribute (Okta and Entra send those).
 */
function patchOperations(body: unknown): { op: string; path?: string; value?: unknown }[] {
  const b = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  if (!Array.isArray(b.schemas) || !b.schemas.includes(patchOpSchema)) {
    throw new ScimError(400, `a PATCH request has the schema ${patchOpSchema}`, "invalidSyntax");
  }
  const ops = b.Operations ?? b.operations;
  if (!Array.isArray(ops) || ops.length === 0)
    throw new ScimError(400, "Operations must be a non-empty list", "invalidSyntax");
  const out: { op: string; path?: string; value?: unknown }[] = [];
  for (const [i, raw] of ops.entries()) {
    const o = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
    const op = typeof o.op === "string" ? o.op.toLowerCase() : "";
    if (op !== "add" && op !== "replace" && op !== "remove") {
      throw new ScimError(400, `Operations[${i}].op must be add, replace or remove`, "invalidSyntax");
    }
    const path = typeof o.path === "string" && o.path ? o.path : undefined;
    if (!path && op === "remove") throw new ScimError(400, `Operations[${i}] removes without a path`, "noTarget");
    if (!path && o.value && typeof o.value === "object" && !Array.isArray(o.value)) {
      for (const [key, value] of Object.entries(o.value)) out.push({ op, path: key, value: normalised(key, value) });
    } else if (path) {
      out.push({ op, path, ...(op === "remove" && o.value === undefined ? {} : { value: normalised(path, o.value) }) });
    } else {
      throw new ScimError(400, `Operations[${i}] has neither a path nor an object value`, "invalidValue");
    }
  }
  return out;
}

function normalised(path: string, value: unknown): unknown {
  if (path.toLowerCase() === "active" && typeof value === "string") return booleanOf(value, "active");
  return value;
}

export type { Request as ScimRequest };
