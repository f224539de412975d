import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BadRequest_FieldViolationSchema,
  BadRequestSchema,
  ErrorInfoSchema,
} from "../gen/google/rpc/error_details_pb.js";

/** The `domain` of every `google.rpc.ErrorInfo` Roster sends. */
export const errorDomain = "roster";

/**
 * A named error: a code and a message template, defined once, so that
 * clients and tests can match on `reason` (sent as `google.rpc.ErrorInfo`).
 */
export interface DefinedError<A extends string> {
  readonly reason: string;
  readonly code: Code;
  (attributes: Record<A, string | number>, cause?: unknown): ConnectError;
  /** Whether `err` was made by this definition. */
  is(err: unknown): err is ConnectError;
}

/**
 * Define an error. `template` names attributes in braces
 * (`user {user_id} not found`); they are filled in and also sent as the
 * metadata of the `ErrorInfo` detail.
 */
export function defineError<A extends string = never>(reason: string, code: Code, template: string): DefinedError<A> {
  const make = (attributes: Record<A, string | number>, cause?: unknown) => {
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(attributes)) metadata[k] = String(v);
    const message = template.replace(/\{(\w+)\}/g, (_, k: string) => metadata[k] ?? `{${k}}`);
    return new ConnectError(
      message,
      code,
      undefined,
      [{ desc: ErrorInfoSchema, value: { reason, domain: errorDomain, metadata } }],
      cause,
    );
  };
  const is = (err: unknown): err is ConnectError =>
    err instanceof ConnectError &&
    err.findDetails(ErrorInfoSchema).some((d) => d.reason === reason && d.domain === errorDomain);
  return Object.assign(make, { reason, code, is });
}

/** One invalid field of a request. */
export interface FieldViolation {
  field: string;
  description: string;
}

/**
 * INVALID_ARGUMENT with a `google.rpc.BadRequest` detail naming every
 * invalid field, so that clients can show all problems at once.
 */
export function invalidArgument(violations: FieldViolation[]): ConnectError {
  const message = violations.map((v) => `${v.field}: ${v.description}`).join("; ");
  return new ConnectError(message, Code.InvalidArgument, undefined, [
    {
      desc: BadRequestSchema,
      value: create(BadRequestSchema, {
        fieldViolations: violations.map((v) => create(BadRequest_FieldViolationSchema, v)),
      }),
    },
    { desc: ErrorInfoSchema, value: { reason: "INVALID_ARGUMENT", domain: errorDomain, metadata: {} } },
  ]);
}

// Authentication and authorization.
export const errUnauthenticated = defineError(
  "UNAUTHENTICATED",
  Code.Unauthenticated,
  "missing, invalid or expired credentials",
);
export const errMissingRight = defineError<"right">(
  "MISSING_RIGHT",
  Code.PermissionDenied,
  "this call needs the right {right}",
);
export const errEmailNamesAdminOnly = defineError<"email">(
  "EMAIL_NAMES_ADMIN_ONLY",
  Code.PermissionDenied,
  "only admins may name other users by email address ({email}); use the user id",
);
export const errAdminOnlyFields = defineError<"paths">(
  "ADMIN_ONLY_FIELDS",
  Code.PermissionDenied,
  "only admins may change or read: {paths}",
);

// Field masks and paging.
export const errUnknownFieldPaths = defineError<"paths">(
  "UNKNOWN_FIELD_PATHS",
  Code.InvalidArgument,
  "unknown or forbidden field mask paths: {paths}",
);
export const errReadOnlyFieldPaths = defineError<"paths">(
  "READ_ONLY_FIELD_PATHS",
  Code.InvalidArgument,
  "these fields cannot be changed: {paths}",
);
export const errInvalidPageToken = defineError(
  "INVALID_PAGE_TOKEN",
  Code.InvalidArgument,
  "the page token is invalid or belongs to a different query",
);
export const errInvalidOrder = defineError<"order" | "allowed">(
  "INVALID_ORDER",
  Code.InvalidArgument,
  "cannot order by {order}; use one of {allowed}, optionally with a leading -",
);

// Users.
export const errUserNotFound = defineError<"user_id">("USER_NOT_FOUND", Code.NotFound, "user {user_id} not found");
export const errUserIdTaken = defineError<"user_id">(
  "USER_ID_TAKEN",
  Code.AlreadyExists,
  "user id {user_id} is taken (ids of deleted users stay reserved until purged)",
);
export const errEmailTaken = defineError<"email">(
  "EMAIL_TAKEN",
  Code.AlreadyExists,
  "email address {email} belongs to another user",
);
export const errEtagMismatch = defineError<"user_id">(
  "ETAG_MISMATCH",
  Code.Aborted,
  "user {user_id} changed since it was read; read it again and retry",
);
export const errConcurrentUpdate = defineError<"user_id">(
  "CONCURRENT_UPDATE",
  Code.Aborted,
  "user {user_id} is being changed by another request; retry",
);
export const errUserNotDeleted = defineError<"user_id">(
  "USER_NOT_DELETED",
  Code.FailedPrecondition,
  "user {user_id} is not deleted",
);
export const errUserMerged = defineError<"user_id" | "merged_into">(
  "USER_MERGED",
  Code.FailedPrecondition,
  "user {user_id} was merged into {merged_into} and cannot be restored",
);
export const errNewUserTokenInvalid = defineError<"user_id">(
  "NEW_USER_TOKEN_INVALID",
  Code.PermissionDenied,
  "new_user_token must be a valid token of user {user_id} holding RIGHT_USER_ALL (or the caller an admin)",
);
export const errRestoreWindowPassed = defineError<"user_id" | "deleted_at">(
  "RESTORE_WINDOW_PASSED",
  Code.FailedPrecondition,
  "user {user_id} was deleted at {deleted_at}, too long ago to restore; it can only be purged",
);
export const errLastAdmin = defineError<"user_id">(
  "LAST_ADMIN",
  Code.FailedPrecondition,
  "user {user_id} is the last approved admin and must stay an approved admin",
);
export const errAdminChangeBusy = defineError(
  "ADMIN_CHANGE_BUSY",
  Code.Aborted,
  "another change to the set of admins is in progress; retry",
);

// Access: passwords, tokens, API keys.
export const errIncorrectPassword = defineError(
  "INCORRECT_PASSWORD",
  Code.Unauthenticated,
  "the current password is incorrect",
);
export const errApiKeyNotFound = defineError<"id" | "user_id">(
  "API_KEY_NOT_FOUND",
  Code.NotFound,
  "API key {id} of user {user_id} not found",
);
export const errApiKeyNameTaken = defineError<"name" | "user_id">(
  "API_KEY_NAME_TAKEN",
  Code.AlreadyExists,
  "user {user_id} already has an API key named {name}",
);
export const errRightsExceeded = defineError<"rights">(
  "RIGHTS_EXCEEDED",
  Code.PermissionDenied,
  "rights not held by the creator or not available to the user: {rights}",
);
export const errNotALoginToken = defineError(
  "NOT_A_LOGIN_TOKEN",
  Code.FailedPrecondition,
  "this call must be made with a login token, not an API key",
);
export const errTokenRequestNotFound = defineError<"id">(
  "TOKEN_REQUEST_NOT_FOUND",
  Code.NotFound,
  "token request {id} not found",
);
export const errTokenRequestState = defineError<"id" | "status" | "expected">(
  "TOKEN_REQUEST_STATE",
  Code.FailedPrecondition,
  "token request {id} is {status}, not {expected}",
);
export const errTokenBusy = defineError(
  "TOKEN_BUSY",
  Code.Aborted,
  "the record is being changed by another request; retry",
);

// Registration and invitations.
export const errRegistrationClosed = defineError(
  "REGISTRATION_CLOSED",
  Code.PermissionDenied,
  "registration is closed: only admins create users",
);
export const errInvitationRequired = defineError(
  "INVITATION_REQUIRED",
  Code.PermissionDenied,
  "registration needs an invitation token",
);
export const errInvitationNotFound = defineError<"email">(
  "INVITATION_NOT_FOUND",
  Code.NotFound,
  "no invitation for {email}",
);
export const errInvitationTokenUnknown = defineError(
  "INVITATION_TOKEN_UNKNOWN",
  Code.NotFound,
  "the invitation token is not known (mistyped, or replaced by a resent invitation)",
);
export const errInvitationExpired = defineError<"expired_at">(
  "INVITATION_EXPIRED",
  Code.FailedPrecondition,
  "the invitation expired at {expired_at}; ask for it to be resent",
);
export const errInvitationRevoked = defineError(
  "INVITATION_REVOKED",
  Code.FailedPrecondition,
  "the invitation was revoked",
);
export const errInvitationUsed = defineError(
  "INVITATION_USED",
  Code.FailedPrecondition,
  "the invitation was already used",
);
export const errInvitationPending = defineError<"email">(
  "INVITATION_PENDING",
  Code.AlreadyExists,
  "a pending invitation for {email} exists; resend or delete it",
);
export const errInvitationState = defineError<"email" | "status">(
  "INVITATION_STATE",
  Code.FailedPrecondition,
  "the invitation for {email} is {status}",
);
export const errInvitationBusy = defineError(
  "INVITATION_BUSY",
  Code.Aborted,
  "the invitation is being changed by another request; retry",
);

// Settings.
export const errSettingNotFound = defineError<"user_id" | "key">(
  "SETTING_NOT_FOUND",
  Code.NotFound,
  "user {user_id} has no setting {key}",
);
export const errSettingsEtagMismatch = defineError<"user_id">(
  "SETTINGS_ETAG_MISMATCH",
  Code.Aborted,
  "the settings of user {user_id} changed since they were read; read them again and retry",
);
export const errSettingsBusy = defineError<"user_id">(
  "SETTINGS_BUSY",
  Code.Aborted,
  "the settings of user {user_id} are being changed by other requests; retry",
);

// The system user and multi-step operations.
export const errSystemUser = defineError(
  "SYSTEM_USER",
  Code.FailedPrecondition,
  "the system user is built in: it cannot be changed, removed, merged, renamed or given credentials",
);
export const errUserBusy = defineError<"user_id" | "operation">(
  "USER_BUSY",
  Code.Aborted,
  "user {user_id} is in the middle of {operation}, which will finish or be undone shortly; retry",
);
export const errSameUser = defineError("SAME_USER", Code.InvalidArgument, "the two user ids must differ");

export const errAgreementNotFound = defineError<"id">(
  "AGREEMENT_NOT_FOUND",
  Code.NotFound,
  "user agreement {id} not found",
);
export const errAgreementVersion = defineError<"id" | "version" | "current">(
  "AGREEMENT_VERSION",
  Code.FailedPrecondition,
  "user agreement {id} is at version {current}, not {version}",
);
export const errUserNotSetUp = defineError<"user_id">(
  "USER_NOT_SET_UP",
  Code.FailedPrecondition,
  "user {user_id} was not set up: an admin sets it up first (roster users setup)",
);
export const errAgreementsNotAccepted = defineError<"user_id" | "agreements">(
  "AGREEMENTS_NOT_ACCEPTED",
  Code.FailedPrecondition,
  "user {user_id} has not accepted the user agreements {agreements}",
);
export const errWebhookNotFound = defineError<"id">("WEBHOOK_NOT_FOUND", Code.NotFound, "webhook {id} not found");
export const errWebhookKeyMissing = defineError<"id">(
  "WEBHOOK_KEY_MISSING",
  Code.FailedPrecondition,
  "webhook {id} was made by a server with another --secret-key: only servers holding that key can sign its deliveries",
);
// Self-service links and requests.
export const errLinkUnknown = defineError(
  "LINK_UNKNOWN",
  Code.NotFound,
  "the link is not valid (mistyped, replaced by a newer one, or expired and removed); ask for a new one",
);
export const errLinkExpired = defineError<"expired_at">(
  "LINK_EXPIRED",
  Code.FailedPrecondition,
  "the link expired at {expired_at}; ask for a new one",
);
export const errLinkUsed = defineError(
  "LINK_USED",
  Code.FailedPrecondition,
  "the link was already used; ask for a new one if you need it again",
);
export const errEmailChanged = defineError<"user_id">(
  "EMAIL_CHANGED",
  Code.FailedPrecondition,
  "the address is no longer the primary email address of user {user_id}",
);
export const errNoEmailAddress = defineError<"user_id">(
  "NO_EMAIL_ADDRESS",
  Code.FailedPrecondition,
  "user {user_id} has no primary email address",
);
export const errTooManyRequests = defineError(
  "TOO_MANY_REQUESTS",
  Code.ResourceExhausted,
  "too many requests from this client; wait a while and try again",
);
