import { create, type DescMessage, type DescMethod, type MessageShape } from "@bufbuild/protobuf";
import { createContextValues, createHandlerContext, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
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
import { requestProblems } from "../requests/request-rules.js";
import type { Logger } from "../runtime/log.js";
import type { Store } from "../store/store.js";
import { type UserDocument, userDocumentFields, userFromDocument } from "../store/user-documents.js";
import type { UserOrderField } from "../store/user-lists.js";
import { userIdProblem } from "../validation/user-validation.js";
import { ScimError, scimErrorOf } from "./scim-error.js";
import { conditionOfFilter } from "./scim-filter.js";
import { type Answer, headersOf, ifMatch, ok, readJson, type ScimRequest, type ScimResponse } from "./scim-http.js";
import {
  attributeSelection,
  type ListParameters,
  listOf,
  queryParameters,
  searchParameters,
  shape,
} from "./scim-parameters.js";
import { patchedResource, patchOperations } from "./scim-patch-operations.js";
import { listResponseSchema, maxResults, schemas, serviceProviderConfig, userResourceType } from "./scim-schemas.js";
import { mergedAttributes, type RosterFields, rosterFieldsOf, scimUserOf, weakEtag } from "./scim-users.js";

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
export function scimService(deps: ScimServiceDeps): (req: ScimRequest, res: ScimResponse) => void {
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

  async function handle(req: ScimRequest, onCaller: (userId: string) => void): Promise<Answer> {
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
  function contextFor(found: Caller, req: ScimRequest): HandlerContext {
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
      const patched = patchedResource(scimUserOf(current, base), operations);
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

function notFound(id: string): ScimError {
  return new ScimError(404, `user ${id} not found`);
}

function sortedEntries(record: Record<string, string>) {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
