import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "pino";
import { Right } from "../../gen/roster/v1/rights_pb.js";
import { State, type User, UserSchema } from "../../gen/roster/v1/user_pb.js";
import { MergeAPIKeys, type UserRegistry } from "../../gen/roster/v1/user_registry_pb.js";
import {
  errAdminOnlyFields,
  errAgreementsNotAccepted,
  errEmailTaken,
  errInvitationRequired,
  errInvitationUsed,
  errMissingRight,
  errNewUserTokenInvalid,
  errRegistrationClosed,
  errRestoreWindowPassed,
  errUnauthenticated,
  errUserIdTaken,
  errUserMerged,
  errUserNotDeleted,
  errUserNotFound,
  errUserNotSetUp,
  invalidArgument,
} from "../../shared/errors.js";
import { userModel } from "../../shared/user-model.js";
import { issueApiKey } from "../access/api-keys.js";
import { authenticate } from "../access/authenticate.js";
import { type Caller, callerOf, holds, requireCaller } from "../access/caller.js";
import type { PasswordHasher, PasswordPolicy } from "../access/passwords.js";
import { newTemporaryPassword, requireAcceptablePassword } from "../access/passwords.js";
import { expandRights } from "../access/rights.js";
import { agreementStanding } from "../agreements/user-agreements.js";
import { databaseTimeout } from "../deadline.js";
import type { EmailQueue } from "../email/email-queue.js";
import { resolveUpdateMask } from "../fieldmask.js";
import { invitationOfToken, markAccepted } from "../invitations/acceptance.js";
import { type Paginator, sendTotalCount } from "../pagination.js";
import { type LinkOptions, type PublicUrl, pagePaths, pageUrl, sendLink } from "../self-service/links.js";
import type { InvitationDocument } from "../store/invitations-store.js";
import { isSetIn } from "../store/message-documents.js";
import type { Store } from "../store/store.js";
import {
  documentValue,
  type StateName,
  stateName,
  type UserDocument,
  type UserField,
  userFieldValues,
  userFromDocument,
} from "../store/user-documents.js";
import type { UserFilter } from "../store/user-filters.js";
import { alwaysReturnedFields, type UserOrderField, userOrderFields } from "../store/user-lists.js";
import type { NewUserDocument } from "../store/users-bulk-store.js";
import { isDeactivation } from "./deactivation.js";
import { derivedUserIds } from "./derived-user-id.js";
import { mergeUsers } from "./merge-users.js";
import { finishStaleOperations } from "./operation-recovery.js";
import { renameUser } from "./rename-user.js";
import { fillTokenStatus, resolveUserReadMask } from "./token-status.js";
import { changeUser, removeUser } from "./user-changes.js";
import { userFieldRules } from "./user-fields.js";
import { userFilterFrom } from "./user-filter.js";
import { userIdProblem, validateUserFields } from "./user-validation.js";

export interface UserRegistryDeps {
  store: Store;
  mail: EmailQueue;
  registration: { mode: "open" | "invitation" | "closed"; approval: "auto" | "admin" };
  paginator: Paginator;
  hasher: PasswordHasher;
  passwordPolicy: PasswordPolicy;
  isCommonPassword: (password: string) => boolean;
  restoreWindowMs: number;
  defaultDeadlineMs: number;
  /** Base URL for links in emails. */
  urls: PublicUrl;
  /** Where email validation links come from (self-registration, a changed address). */
  links: LinkOptions;
  /** Where finishing another process's interrupted Rename or Merge is reported. */
  log: Pick<Logger, "info" | "warn">;
}

const orders = Object.keys(userOrderFields) as UserOrderField[];

/** Most ids plus emails one BatchGet may ask for. */
const maxBatch = 1000;

export function userRegistry(deps: UserRegistryDeps): ServiceImpl<typeof UserRegistry> {
  const { store } = deps;
  const timeout = databaseTimeout(deps.defaultDeadlineMs);
  const mayReadPrivate = (caller: Caller, userId: string) =>
    caller.userId === userId || holds(caller, Right.ADMIN_USERS_READ);

  /**
   * Merge without admin rights (Arvados): `token` must be a valid token of
   * the new account holding every user right, so that the old user proves
   * it controls both accounts.
   */
  async function requireNewUserToken(token: string, newUserId: string): Promise<void> {
    const owner = token
      ? await authenticate(store, `Bearer ${token}`).catch((err) => {
          if (errUnauthenticated.is(err)) return undefined;
          throw err;
        })
      : undefined;
    const full = !!owner && [...expandRights([Right.USER_ALL])].every((r) => owner.rights.has(r));
    if (!owner || owner.userId !== newUserId || !full) throw errNewUserTokenInvalid({ user_id: newUserId });
  }

  function requireUserId(userId: string, field = "user_id") {
    const problem = userIdProblem(userId);
    if (problem) throw invalidArgument([{ field, description: problem }]);
  }

  /** List or search: one page of users matching `filter`. */
  async function page(
    filter: UserFilter,
    request: {
      fieldMask?: { paths: string[] };
      order: string;
      limit: number;
      page: number;
      pageToken: string;
      exactTotal: boolean;
    },
    ctx: HandlerContext,
  ) {
    const { fields, tokenStatus } = resolveUserReadMask(request.fieldMask?.paths ?? [], true);
    const fingerprint = createHash("sha256").update(JSON.stringify(filter)).digest("base64url").slice(0, 16);
    const pageRequest = deps.paginator.parse(request, orders, fingerprint);
    const result = await store.users.list({
      filter,
      order: pageRequest.order,
      after: pageRequest.after,
      skip: pageRequest.skip,
      limit: pageRequest.limit,
      fields,
      count: request.exactTotal ? "exact" : pageRequest.total !== undefined ? "none" : "estimate",
      maxTimeMS: timeout(ctx),
      withRef: tokenStatus,
    });
    const total = result.total >= 0 ? result.total : (pageRequest.total ?? 0);
    sendTotalCount(ctx, total);
    const last = result.users.at(-1);
    const users = result.users.map(userFromDocument);
    if (tokenStatus) {
      await fillTokenStatus(
        store,
        result.users.map((doc, i) => ({ doc, user: users[i] as User })),
        timeout(ctx),
      );
    }
    return {
      users,
      nextPageToken:
        result.more && last?.user_id
          ? deps.paginator.nextToken(pageRequest.order, fingerprint, result.sortValues.at(-1), last.user_id, total)
          : "",
      totalSize: BigInt(total),
    };
  }

  /** The user as an Update or Restore returns it: the given fields, the always-returned ones and the etag. */
  function partialUser(doc: UserDocument, fields: readonly UserField[]): User {
    const stored = doc as unknown as Record<string, unknown>;
    const picked = Object.fromEntries([...alwaysReturnedFields, ...fields, "etag"].map((f) => [f, stored[f]]));
    return userFromDocument(picked);
  }

  /** The user of a read, with its token status when the mask asked for it. */
  async function withTokenStatus(doc: Partial<UserDocument>, tokenStatus: boolean, ctx: HandlerContext) {
    const user = userFromDocument(doc);
    if (tokenStatus) await fillTokenStatus(store, [{ doc, user }], timeout(ctx));
    return user;
  }

  /** Tell the approved admins that somebody registered and awaits approval. */
  async function notifyAdminsOfRequest(doc: UserDocument) {
    const admins = await store.users.list({
      filter: { deleted: false, admin: true, states: ["APPROVED"] },
      order: { field: "user_id", descending: false },
      skip: 0,
      limit: 100,
      fields: ["primary_email_address"],
      count: "none",
    });
    for (const a of admins.users) {
      if (!a.primary_email_address) continue;
      await deps.mail.enqueue(a.primary_email_address, {
        kind: "registration_pending",
        userId: doc.user_id,
        name: doc.name,
        email: doc.primary_email_address,
      });
    }
  }

  /** Deactivated users lose every token at once (see isDeactivation). */
  async function revokeIfDeactivated(before: UserDocument, after: UserDocument) {
    if (isDeactivation(before, after)) await store.tokens.deleteMany({ userRef: after.ref });
  }

  return {
    async create(req, ctx) {
      const caller = callerOf(ctx);
      const admin = holds(caller, Right.ADMIN_USERS_WRITE);
      const user = req.user ?? create(UserSchema);
      let invitation: InvitationDocument | undefined;
      if (req.invitationToken) {
        if (deps.registration.mode === "closed" && !admin) throw errRegistrationClosed({});
        invitation = await invitationOfToken(store, req.invitationToken);
        if (user.primaryEmailAddress && user.primaryEmailAddress.toLowerCase() !== invitation.email) {
          throw invalidArgument([
            { field: "user.primary_email_address", description: `the invitation is for ${invitation.email}` },
          ]);
        }
        user.primaryEmailAddress = invitation.email;
      } else if (!admin) {
        if (deps.registration.mode === "closed") throw errRegistrationClosed({});
        if (deps.registration.mode === "invitation") throw errInvitationRequired({});
        if (!req.password) throw invalidArgument([{ field: "password", description: "is required to register" }]);
      }
      // Without an id, one is derived from the address (REANA's and
      // Wallaroo's users are named by email alone).
      const candidates =
        !user.userId && user.primaryEmailAddress ? derivedUserIds(user.primaryEmailAddress) : undefined;
      if (candidates) user.userId = candidates.next().value as string;
      const given = userModel.fields
        .filter((f) => f.creatable && (f.immutable || f.required || isSetIn(user, f.desc)))
        .map((f) => f.name);
      const adminOnly = given.filter((f) => userFieldRules[f].update === "admin");
      if (!admin && adminOnly.length > 0) throw errAdminOnlyFields({ paths: adminOnly.join(", ") });
      const adminOnlyOptions = [req.createApiKey && "create_api_key", req.sendEmail && "send_email"].filter(Boolean);
      if (!admin && adminOnlyOptions.length > 0) throw errAdminOnlyFields({ paths: adminOnlyOptions.join(", ") });
      validateUserFields(user, given);

      // A password chosen now wins; else the invitation's initial one; an
      // invitee with neither gets a temporary one by email. Passwords the
      // user did not choose must be changed at first login.
      let passwordHash: string | null = null;
      let temporaryPassword: string | undefined;
      let requirePasswordUpdate = user.requirePasswordUpdate;
      if (req.password) {
        requireAcceptablePassword(
          req.password,
          deps,
          { userId: user.userId, email: user.primaryEmailAddress },
          "password",
        );
        passwordHash = await deps.hasher.hash(req.password);
      } else if (invitation?.password_hash) {
        passwordHash = invitation.password_hash;
        requirePasswordUpdate = true;
      } else if (invitation || req.sendEmail) {
        temporaryPassword = newTemporaryPassword();
        passwordHash = await deps.hasher.hash(temporaryPassword);
        requirePasswordUpdate = true;
      }

      let state: StateName;
      if (admin && !invitation) state = user.state === State.UNSPECIFIED ? "APPROVED" : stateName(user.state);
      else if (invitation) state = invitation.state ?? "APPROVED";
      else state = deps.registration.approval === "admin" ? "REQUESTED" : "APPROVED";

      const now = new Date();
      // The first free derived id, or the given one.
      const insert = async (): Promise<UserDocument> => {
        for (;;) {
          try {
            return await store.users.insert({
              // Every field Create takes, then what the server decides.
              ...(userFieldValues(user) as Omit<NewUserDocument, "state">),
              email_key: user.primaryEmailAddress.toLowerCase(),
              ...(invitation ? { primary_email_address_validated_at: now, admin: invitation.admin } : {}),
              state,
              require_password_update: requirePasswordUpdate,
              password_hash: passwordHash,
              password_updated_at: passwordHash ? now : null,
              created_at: now,
              updated_at: now,
              deleted_at: null,
              // Self-registered users created themselves.
              created_by: caller?.userId ?? user.userId,
            });
          } catch (err) {
            // A derived id taken by somebody else: the next one.
            if (!candidates || !errUserIdTaken.is(err)) throw err;
            user.userId = candidates.next().value as string;
          }
        }
      };
      let doc: UserDocument;
      try {
        doc = await insert();
      } catch (err) {
        // Several registrations with one token race for the invited email;
        // the losers learn that the invitation was used.
        if (invitation && errEmailTaken.is(err)) {
          const holder = await store.users.getDocumentByEmail(invitation.email);
          if (holder && holder.created_at >= invitation.sent_at) throw errInvitationUsed({});
        }
        throw err;
      }
      if (invitation) await markAccepted(store, invitation, doc.user_id);
      if (invitation && temporaryPassword) {
        await deps.mail.enqueue(doc.primary_email_address, {
          kind: "temporary_password",
          userId: doc.user_id,
          password: temporaryPassword,
        });
      } else if (admin && !invitation && (req.sendEmail ?? !!req.password)) {
        // Conch mails whom an admin creates; Wallaroo's invite too. A
        // chosen password is the admin's to pass on, never mailed.
        await deps.mail.enqueue(doc.primary_email_address, {
          kind: "account_created",
          userId: doc.user_id,
          by: caller?.userId ?? "An administrator",
          loginUrl: pageUrl(deps.urls, pagePaths.signIn),
          temporaryPassword,
          mustChangePassword: doc.require_password_update,
        });
      }
      if (doc.state === "REQUESTED" && !admin) await notifyAdminsOfRequest(doc);
      // Somebody who registered themselves proves their address with a link.
      if (!admin && doc.primary_email_address && !doc.primary_email_address_validated_at) {
        await sendLink(deps.links, "email_validation", doc);
      }
      // The user stands without the key if this fails: CreateAPIKey gives one later.
      const key = req.createApiKey
        ? await issueApiKey(store, doc, {
            name: "initial",
            rights: [Right.USER_ALL],
            expiresAt: null,
            createdBy: caller?.userId ?? doc.user_id,
            nameTaken: "suffix",
          })
        : undefined;
      return { user: userFromDocument(doc), apiKey: key?.secret ?? "" };
    },

    async get(req, ctx) {
      const caller = requireCaller(ctx);
      requireUserId(req.userId);
      const mask = resolveUserReadMask(req.fieldMask?.paths ?? [], mayReadPrivate(caller, req.userId));
      const doc = await store.users.get(req.userId, mask.fields, { withRef: mask.tokenStatus });
      if (!doc) throw errUserNotFound({ user_id: req.userId });
      return { user: await withTokenStatus(doc, mask.tokenStatus, ctx) };
    },

    async getCurrent(req, ctx) {
      const caller = requireCaller(ctx);
      const mask = resolveUserReadMask(req.fieldMask?.paths ?? [], true);
      const doc = await store.users.get(caller.userId, mask.fields, { withRef: mask.tokenStatus });
      if (!doc) throw errUserNotFound({ user_id: caller.userId });
      return { user: await withTokenStatus(doc, mask.tokenStatus, ctx) };
    },

    async batchGet(req, ctx) {
      const caller = requireCaller(ctx);
      const adminRead = holds(caller, Right.ADMIN_USERS_READ);
      if (req.userIds.length + req.emailAddresses.length > maxBatch) {
        throw invalidArgument([{ field: "user_ids", description: `at most ${maxBatch} ids and emails in all` }]);
      }
      // Looking users up by email would tell anybody which addresses are registered.
      if (req.emailAddresses.length > 0 && !adminRead) throw errMissingRight({ right: "RIGHT_ADMIN_USERS_READ" });
      for (const [i, id] of req.userIds.entries()) requireUserId(id, `user_ids[${i}]`);
      const onlySelf = req.userIds.every((id) => id === caller.userId) && req.emailAddresses.length === 0;
      const mask = resolveUserReadMask(req.fieldMask?.paths ?? [], adminRead || onlySelf);
      const docs = await store.users.getMany(req.userIds, req.emailAddresses, mask.fields, {
        withRef: mask.tokenStatus,
      });
      const byId = new Map(docs.map((d) => [d.user_id, d]));
      const byEmail = new Map(docs.map((d) => [d.email_key, d]));
      const users: User[] = [];
      const pairs: { doc: Partial<UserDocument>; user: User }[] = [];
      const seen = new Set<string>();
      const take = (d: Partial<UserDocument>) => {
        if (d.user_id && !seen.has(d.user_id)) {
          seen.add(d.user_id);
          const { email_key: _, ...rest } = d;
          const user = userFromDocument(rest);
          users.push(user);
          pairs.push({ doc: d, user });
        }
      };
      const missingUserIds: string[] = [];
      const missingEmailAddresses: string[] = [];
      for (const id of req.userIds) {
        const d = byId.get(id);
        if (d) take(d);
        else missingUserIds.push(id);
      }
      for (const email of req.emailAddresses) {
        const d = byEmail.get(email.toLowerCase());
        if (d) take(d);
        else missingEmailAddresses.push(email);
      }
      if (mask.tokenStatus) await fillTokenStatus(store, pairs, timeout(ctx));
      return { users, missingUserIds, missingEmailAddresses };
    },

    async list(req, ctx) {
      return page(
        userFilterFrom({
          query: "",
          idContains: "",
          nameContains: "",
          descriptionContains: "",
          emailContains: "",
          attributesContain: {},
          deleted: req.deleted,
          state: req.state,
          includeSystem: req.includeSystem,
        }),
        req,
        ctx,
      );
    },

    async search(req, ctx) {
      return page(userFilterFrom(req), req, ctx);
    },

    async update(req, ctx) {
      const caller = requireCaller(ctx);
      const user = req.user ?? create(UserSchema);
      requireUserId(user.userId, "user.user_id");
      const paths = resolveUpdateMask(
        userFieldRules,
        req.updateMask?.paths ?? [],
        holds(caller, Right.ADMIN_USERS_WRITE),
      );
      validateUserFields(user, paths);
      let before: UserDocument | undefined;
      const after = await changeUser(
        store,
        user.userId,
        (current) => {
          before = current;
          if (paths.length === 0) return undefined;
          const next: UserDocument = { ...current, updated_at: new Date() };
          for (const path of paths) (next as unknown as Record<string, unknown>)[path] = documentValue(user, path);
          if (paths.includes("primary_email_address")) {
            next.email_key = next.primary_email_address.toLowerCase();
            if (next.email_key !== current.email_key && !paths.includes("primary_email_address_validated_at")) {
              next.primary_email_address_validated_at = null;
            }
          }
          return next;
        },
        { etag: user.etag || undefined, maxTimeMS: timeout(ctx), actor: caller.userId },
      );
      if (before) {
        const previous = before;
        await revokeIfDeactivated(previous, after);
        if (previous.state !== after.state && req.sendEmail !== false) {
          await deps.mail.enqueue(after.primary_email_address, {
            kind: "state_changed",
            userId: after.user_id,
            state: after.state,
            description: after.state_description,
          });
        }
        // A new address is unvalidated until a link sent to it is opened.
        if (
          after.email_key !== previous.email_key &&
          after.primary_email_address &&
          !after.primary_email_address_validated_at &&
          req.sendEmail !== false
        ) {
          await sendLink(deps.links, "email_validation", after);
        }
        // Somebody else's change to other fields is mailed too (Conch
        // mails users about admins' updates); one's own is not.
        const changed = paths.filter(
          (p) =>
            p !== "state" &&
            p !== "state_description" &&
            JSON.stringify(previous[p as keyof UserDocument]) !== JSON.stringify(after[p as keyof UserDocument]),
        );
        if (changed.length > 0 && caller.userId !== after.user_id && req.sendEmail !== false) {
          // To the address the user had: a changed address is told at the old one.
          await deps.mail.enqueue(previous.primary_email_address, {
            kind: "account_updated",
            userId: after.user_id,
            fields: changed,
            by: caller.userId,
          });
        }
      }
      return { user: partialUser(after, paths) };
    },

    async delete(req, ctx) {
      requireUserId(req.userId);
      const now = new Date();
      let before: UserDocument | undefined;
      const after = await changeUser(
        store,
        req.userId,
        (current) => {
          before = current;
          return { ...current, deleted_at: now, updated_at: now };
        },
        { etag: req.etag || undefined, maxTimeMS: timeout(ctx), actor: requireCaller(ctx).userId },
      );
      if (before) await revokeIfDeactivated(before, after);
      return { restorableUntil: timestampFromDate(new Date(now.getTime() + deps.restoreWindowMs)) };
    },

    async restore(req, ctx) {
      requireUserId(req.userId);
      const restorable = (doc: UserDocument) => {
        if (!doc.deleted_at) throw errUserNotDeleted({ user_id: req.userId });
        // Its data now belongs to the other user, and its login redirects there.
        if (doc.merged_into) throw errUserMerged({ user_id: req.userId, merged_into: doc.merged_into });
        if (Date.now() - doc.deleted_at.getTime() > deps.restoreWindowMs) {
          throw errRestoreWindowPassed({ user_id: req.userId, deleted_at: doc.deleted_at.toISOString() });
        }
      };
      const after = await changeUser(
        store,
        req.userId,
        (current) => {
          restorable(current);
          return { ...current, deleted_at: null, updated_at: new Date() };
        },
        { includeDeleted: true, maxTimeMS: timeout(ctx), actor: requireCaller(ctx).userId },
      );
      return { user: userFromDocument(after) };
    },

    async purge(req) {
      requireUserId(req.userId);
      const removed = await removeUser(store, req.userId);
      await store.tokens.deleteMany({ userRef: removed.ref });
      await store.tokenRequests.deleteForUser(removed.ref);
      await store.settings.purge(removed.ref);
      await store.agreements.purge(removed.ref);
      return {};
    },

    async setup(req, ctx) {
      const caller = requireCaller(ctx);
      requireUserId(req.userId);
      const doc = await store.users.getDocument(req.userId);
      if (!doc) throw errUserNotFound({ user_id: req.userId });
      // Arvados: set up, the user activates themself once every user
      // agreement is accepted; meanwhile REQUESTED, so that they can sign in
      // to accept them. An approved user stays approved.
      const { pending } = await agreementStanding(store, doc.ref);
      const after = await changeUser(
        store,
        req.userId,
        (current) =>
          pending.length === 0 || current.state === "APPROVED"
            ? { ...current, state: "APPROVED", state_description: "", updated_at: new Date() }
            : {
                ...current,
                state: "REQUESTED",
                state_description: "set up: accept the user agreements, then activate",
                updated_at: new Date(),
              },
        { actor: caller.userId, maxTimeMS: timeout(ctx) },
      );
      await store.agreements.setUp(after.ref, true);
      if (req.sendEmail && after.state === "APPROVED") {
        await deps.mail.enqueue(after.primary_email_address, {
          kind: "welcome",
          userId: after.user_id,
          loginUrl: pageUrl(deps.urls, pagePaths.signIn),
        });
      }
      return { user: userFromDocument(after) };
    },

    async activate(req, ctx) {
      const caller = requireCaller(ctx);
      const userId = req.userId || caller.userId;
      requireUserId(userId);
      const doc = await store.users.getDocument(userId);
      if (!doc) throw errUserNotFound({ user_id: userId });
      if (doc.state === "APPROVED") return { user: userFromDocument(doc) };
      const byAdmin = userId !== caller.userId && holds(caller, Right.ADMIN_USERS_WRITE);
      const { setUp, pending } = await agreementStanding(store, doc.ref);
      if (!setUp && !byAdmin) throw errUserNotSetUp({ user_id: userId });
      if (pending.length > 0) throw errAgreementsNotAccepted({ user_id: userId, agreements: pending.join(", ") });
      if (!setUp) await store.agreements.setUp(doc.ref, true);
      const after = await changeUser(
        store,
        userId,
        (current) => ({ ...current, state: "APPROVED", state_description: "", updated_at: new Date() }),
        { actor: caller.userId, maxTimeMS: timeout(ctx) },
      );
      return { user: userFromDocument(after) };
    },

    async unsetup(req, ctx) {
      const caller = requireCaller(ctx);
      requireUserId(req.userId);
      const after = await changeUser(
        store,
        req.userId,
        (current) => ({
          ...current,
          state: "SUSPENDED",
          state_description: req.reason || "deactivated",
          updated_at: new Date(),
        }),
        { actor: caller.userId, maxTimeMS: timeout(ctx) },
      );
      // Every token goes, also when the user was not approved before,
      // unless the admin keeps them for a later reactivation (Conch).
      const revoked = (req.clearTokens ?? true) ? await store.tokens.deleteMany({ userRef: after.ref }) : 0;
      await store.agreements.setUp(after.ref, false);
      if ((req.sendEmail ?? true) && caller.userId !== after.user_id) {
        await deps.mail.enqueue(after.primary_email_address, {
          kind: "state_changed",
          userId: after.user_id,
          state: after.state,
          description: after.state_description,
        });
      }
      return { user: userFromDocument(after), tokensRevoked: BigInt(revoked) };
    },

    async merge(req, ctx) {
      const caller = requireCaller(ctx);
      requireUserId(req.oldUserId, "old_user_id");
      requireUserId(req.newUserId, "new_user_id");
      if (req.newUserToken || !holds(caller, Right.ADMIN_USERS_WRITE)) {
        await requireNewUserToken(req.newUserToken, req.newUserId);
      }
      await finishStaleOperations(store, deps.log, [req.oldUserId, req.newUserId]);
      const result = await mergeUsers(store, {
        oldUserId: req.oldUserId,
        newUserId: req.newUserId,
        apiKeys: req.apiKeys === MergeAPIKeys.MERGE_API_KEYS_REVOKE ? "REVOKE" : "MOVE",
        redirect: req.redirect,
        actor: caller.userId,
      });
      return {
        user: userFromDocument(result.user),
        apiKeysMoved: BigInt(result.apiKeysMoved),
        tokensRevoked: BigInt(result.tokensRevoked),
        settingsMoved: BigInt(result.settingsMoved),
      };
    },

    async rename(req, ctx) {
      const caller = requireCaller(ctx);
      requireUserId(req.userId);
      requireUserId(req.newUserId, "new_user_id");
      await finishStaleOperations(store, deps.log, [req.userId, req.newUserId]);
      return { user: userFromDocument(await renameUser(store, req.userId, req.newUserId, caller.userId)) };
    },
  };
}
