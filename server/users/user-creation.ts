import { Right } from "../../gen/roster/v1/rights_pb.js";
import { State, type User } from "../../gen/roster/v1/user_pb.js";
import {
  errAdminOnlyFields,
  errEmailTaken,
  errInvitationRequired,
  errInvitationUsed,
  errRegistrationClosed,
  errUserIdTaken,
  invalidArgument,
} from "../../shared/errors.js";
import { userModel } from "../../shared/user-model.js";
import { issueApiKey } from "../access/api-keys.js";
import { type Caller, holds } from "../access/caller.js";
import {
  hashNewPassword,
  newTemporaryPassword,
  type PasswordChecks,
  type PasswordHasher,
  requireAcceptablePassword,
} from "../access/passwords.js";
import type { EmailQueue } from "../email/email-queue.js";
import { invitationOfToken, markAccepted } from "../invitations/acceptance.js";
import { type LinkOptions, type PublicUrl, pagePaths, pageUrl, sendLink } from "../self-service/links.js";
import type { InvitationDocument } from "../store/invitations-store.js";
import { isSetIn } from "../store/message-documents.js";
import type { Store } from "../store/store.js";
import {
  type NewUserDocument,
  newUserDocument,
  type StateName,
  stateName,
  type UserDocument,
} from "../store/user-documents.js";
import { mailAdminsOfRequest } from "../user-changes/user-notices.js";
import { validateUserFields } from "../validation/user-validation.js";
import { derivedUserIds } from "./derived-user-id.js";
import { userFieldRules } from "./user-fields.js";

/** Who may create users, and whether self-registered users wait for an admin. */
export interface RegistrationPolicy {
  mode: "open" | "invitation" | "closed";
  approval: "auto" | "admin";
}

export interface UserCreationDeps extends PasswordChecks {
  store: Store;
  mail: EmailQueue;
  hasher: PasswordHasher;
  registration: RegistrationPolicy;
  /** Base URL for links in emails. */
  urls: PublicUrl;
  /** Where email validation links come from. */
  links: LinkOptions;
}

/** What Create asks for (CreateUserRequest). */
export interface NewUser {
  user: User;
  password: string;
  invitationToken: string;
  createApiKey: boolean;
  sendEmail?: boolean;
}

/** The initial password of a new user, and whether it must be changed at first login. */
interface InitialPassword {
  hash: string | null;
  /** A generated password, to be mailed. */
  temporary?: string;
  mustChange: boolean;
}

/**
 * Create a user: by an admin, by self-registration (as the registration
 * policy allows), or by accepting an invitation. Returns the stored user
 * and the secret of its initial API key when one was asked for.
 */
export async function createUser(
  deps: UserCreationDeps,
  caller: Caller | undefined,
  req: NewUser,
): Promise<{ doc: UserDocument; apiKey: string }> {
  const admin = holds(caller, Right.ADMIN_USERS_WRITE);
  const { user } = req;
  const invitation = await admission(deps, req, admin);
  // Without an id, one is derived from the address (REANA's and
  // Wallaroo's users are named by email alone).
  const candidates = !user.userId && user.primaryEmailAddress ? derivedUserIds(user.primaryEmailAddress) : undefined;
  if (candidates) user.userId = candidates.next().value as string;
  requireCreatableFields(req, admin);
  const password = await initialPassword(deps, req, invitation);
  const state = initialState(deps.registration, user, admin, invitation);
  const now = new Date();
  const newDocument = (userId: string): NewUserDocument =>
    newUserDocument(
      user,
      {
        user_id: userId,
        ...(invitation ? { primary_email_address_validated_at: now, admin: invitation.admin } : {}),
        state,
        require_password_update: password.mustChange,
        password_hash: password.hash,
        password_updated_at: password.hash ? now : null,
        // Self-registered users created themselves.
        created_by: caller?.userId ?? userId,
      },
      now,
    );
  const doc = await insertNewUser(deps.store, newDocument, user.userId, candidates, invitation);
  if (invitation) await markAccepted(deps.store, invitation, doc.user_id);
  await announceNewUser(deps, doc, { caller, admin, invitation, password, sendEmail: req.sendEmail ?? !!req.password });
  // The user stands without the key if this fails: CreateAPIKey gives one later.
  const key = req.createApiKey
    ? await issueApiKey(deps.store, doc, {
        name: "initial",
        rights: [Right.USER_ALL],
        expiresAt: null,
        createdBy: caller?.userId ?? doc.user_id,
        nameTaken: "suffix",
      })
    : undefined;
  return { doc, apiKey: key?.secret ?? "" };
}

/**
 * Whether the caller may create this user: admins always; others as the
 * registration mode allows, an invitation admitting them even when
 * registration is by invitation. Returns the invitation, whose address the
 * new user takes.
 */
async function admission(
  deps: UserCreationDeps,
  req: NewUser,
  admin: boolean,
): Promise<InvitationDocument | undefined> {
  const { mode } = deps.registration;
  if (!req.invitationToken) {
    if (admin) return undefined;
    if (mode === "closed") throw errRegistrationClosed({});
    if (mode === "invitation") throw errInvitationRequired({});
    if (!req.password) throw invalidArgument([{ field: "password", description: "is required to register" }]);
    return undefined;
  }
  if (mode === "closed" && !admin) throw errRegistrationClosed({});
  const invitation = await invitationOfToken(deps.store, req.invitationToken);
  const { user } = req;
  if (user.primaryEmailAddress && user.primaryEmailAddress.toLowerCase() !== invitation.email) {
    throw invalidArgument([
      { field: "user.primary_email_address", description: `the invitation is for ${invitation.email}` },
    ]);
  }
  user.primaryEmailAddress = invitation.email;
  return invitation;
}

/** Admin-only fields and options are refused to others; the given fields must be valid. */
function requireCreatableFields(req: NewUser, admin: boolean): void {
  const { user } = req;
  const given = userModel.fields
    .filter((f) => f.creatable && (f.immutable || f.required || isSetIn(user, f.desc)))
    .map((f) => f.name);
  const adminOnly = given.filter((f) => userFieldRules[f].update === "admin");
  if (!admin && adminOnly.length > 0) throw errAdminOnlyFields({ paths: adminOnly.join(", ") });
  const adminOnlyOptions = [req.createApiKey && "create_api_key", req.sendEmail && "send_email"].filter(Boolean);
  if (!admin && adminOnlyOptions.length > 0) throw errAdminOnlyFields({ paths: adminOnlyOptions.join(", ") });
  validateUserFields(user, given);
}

/**
 * A password chosen now wins; else the invitation's initial one; an
 * invitee (or a user an admin has mailed) with neither gets a temporary one
 * by email. Passwords the user did not choose must be changed at first login.
 */
async function initialPassword(
  deps: UserCreationDeps,
  req: NewUser,
  invitation: InvitationDocument | undefined,
): Promise<InitialPassword> {
  const { user } = req;
  if (req.password) {
    const context = { userId: user.userId, email: user.primaryEmailAddress };
    const chosen = requireAcceptablePassword(req.password, deps, context, "password");
    return { hash: await hashNewPassword(deps.hasher, chosen), mustChange: user.requirePasswordUpdate };
  }
  if (invitation?.password_hash) return { hash: invitation.password_hash, mustChange: true };
  if (invitation || req.sendEmail) {
    const temporary = newTemporaryPassword();
    return { hash: await hashNewPassword(deps.hasher, temporary), temporary, mustChange: true };
  }
  return { hash: null, mustChange: user.requirePasswordUpdate };
}

/** An admin's users start as given (default APPROVED), invitees as invited, others as the approval policy says. */
function initialState(
  registration: RegistrationPolicy,
  user: User,
  admin: boolean,
  invitation: InvitationDocument | undefined,
): StateName {
  if (invitation) return invitation.state ?? "APPROVED";
  if (admin) return user.state === State.UNSPECIFIED ? "APPROVED" : stateName(user.state);
  return registration.approval === "admin" ? "REQUESTED" : "APPROVED";
}

/**
 * Insert the user under its id, or under the first free one of the
 * derived `candidates`. Several registrations with one invitation race for
 * its address; the losers learn that the invitation was used.
 */
async function insertNewUser(
  store: Store,
  newDocument: (userId: string) => NewUserDocument,
  userId: string,
  candidates: Iterator<string> | undefined,
  invitation: InvitationDocument | undefined,
): Promise<UserDocument> {
  try {
    for (let id = userId; ; ) {
      try {
        return await store.users.insert(newDocument(id));
      } catch (err) {
        // A derived id taken by somebody else: the next one.
        if (!candidates || !errUserIdTaken.is(err)) throw err;
        id = candidates.next().value as string;
      }
    }
  } catch (err) {
    if (invitation && errEmailTaken.is(err)) {
      const holder = await store.users.getDocumentByEmail(invitation.email);
      if (holder && holder.created_at >= invitation.sent_at) throw errInvitationUsed({});
    }
    throw err;
  }
}

/** The mails a new user causes: its password or account notice, the admins' approval request, the address check. */
async function announceNewUser(
  deps: UserCreationDeps,
  doc: UserDocument,
  how: {
    caller: Caller | undefined;
    admin: boolean;
    invitation: InvitationDocument | undefined;
    password: InitialPassword;
    sendEmail: boolean;
  },
): Promise<void> {
  const { admin, invitation, password } = how;
  if (invitation && password.temporary) {
    await deps.mail.enqueue(doc.primary_email_address, {
      kind: "temporary_password",
      userId: doc.user_id,
      password: password.temporary,
    });
  } else if (admin && !invitation && how.sendEmail) {
    // Conch mails whom an admin creates; Wallaroo's invite too. A
    // chosen password is the admin's to pass on, never mailed.
    await deps.mail.enqueue(doc.primary_email_address, {
      kind: "account_created",
      userId: doc.user_id,
      by: how.caller?.userId ?? "An administrator",
      loginUrl: pageUrl(deps.urls, pagePaths.signIn),
      temporaryPassword: password.temporary,
      mustChangePassword: doc.require_password_update,
    });
  }
  if (doc.state === "REQUESTED" && !admin) await mailAdminsOfRequest(deps, doc);
  // Somebody who registered themselves proves their address with a link.
  if (!admin && doc.primary_email_address && !doc.primary_email_address_validated_at) {
    await sendLink(deps.links, "email_validation", doc);
  }
}
