import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { TokenKind } from "../../gen/roster/v1/user_access_pb.js";
import { MergeAPIKeys } from "../../gen/roster/v1/user_registry_pb.js";
import { access, users } from "../clients.js";
import { field, h, select } from "../dom.js";
import { formDialog } from "../form-dialog.js";
import { localDateTime } from "../format.js";

const userIdPattern = "[a-z0-9](?:-?[a-z0-9])+";
const userIdMessage = "2 to 36 lower-case letters and digits, with single dashes between them.";

function userIdInput(name: string, dataField: string): HTMLInputElement {
  return h("input", {
    type: "text",
    name,
    required: true,
    pattern: userIdPattern,
    maxlength: 36,
    autocomplete: "off",
    spellcheck: "false",
    "data-field": dataField,
    "data-invalid-message": userIdMessage,
  });
}

/** Tell the page what happened; `goTo` names another user's page to open. */
export type Done = (notice: string, goTo?: string) => void;

/**
 * Rename a user (UserRegistry.Rename): their tokens, keys, settings and
 * history follow. Opens the renamed user's page.
 */
export async function renameUser(userId: string, done: Done): Promise<void> {
  const newId = userIdInput("new-user-id", "new_user_id");
  let renamed = "";
  const ok = await formDialog({
    title: `Rename ${userId}?`,
    message:
      "The user gets a new ID; their tokens, API keys, settings and invitations follow. " +
      "The new ID must be free, also of deleted users.",
    body: [field("New user ID", newId)],
    confirmLabel: "Rename user",
    reasons: { USER_ID_TAKEN: "new_user_id", SAME_USER: "new_user_id" },
    submit: async () => {
      const result = await users.rename({ userId, newUserId: newId.value.trim() });
      renamed = result.user?.userId ?? newId.value.trim();
    },
  });
  if (ok) done(`Renamed ${userId} to ${renamed}.`, renamed);
}

/**
 * Merge a user into another (UserRegistry.Merge): attributes and settings
 * move, API keys move or are revoked, and the old user is deleted.
 */
export async function mergeUser(userId: string, done: Done): Promise<void> {
  const into = userIdInput("merge-into", "new_user_id");
  const keys = select("api-keys", [
    [String(MergeAPIKeys.MERGE_API_KEYS_MOVE), "Move them: they keep working, acting as the other user"],
    [String(MergeAPIKeys.MERGE_API_KEYS_REVOKE), "Revoke them"],
  ]);
  const redirect = h("input", { type: "checkbox", name: "redirect" });
  let target = "";
  const ok = await formDialog({
    title: `Merge ${userId} into another user?`,
    message:
      `Attributes and settings of ${userId} move to the other user (whose values win), ` +
      `its login tokens are revoked, and ${userId} is deleted for good (it cannot be restored).`,
    body: [
      field("Merge into (user ID)", into),
      field(`API keys of ${userId}`, keys),
      field(
        `Let ${userId}'s ID, email and password sign in as the other user`,
        redirect,
        "For people who only know their old account.",
      ),
    ],
    confirmLabel: "Merge users",
    danger: true,
    reasons: { USER_NOT_FOUND: "new_user_id", SAME_USER: "new_user_id", USER_MERGED: "new_user_id" },
    submit: async () => {
      target = into.value.trim();
      await users.merge({
        oldUserId: userId,
        newUserId: target,
        apiKeys: Number(keys.value) as MergeAPIKeys,
        redirect: redirect.checked,
      });
    },
  });
  if (ok) done(`Merged ${userId} into ${target}.`, target);
}

/** Revoke a user's tokens by kind, optionally only those issued before a time (UserAccess.RevokeTokens). */
export async function revokeTokens(userId: string, self: boolean, done: Done): Promise<void> {
  const kind = select("kind", [
    [String(TokenKind.LOGIN), "Login tokens (signs them out everywhere)"],
    [String(TokenKind.API_KEY), "API keys"],
    [String(TokenKind.ALL), "Login tokens and API keys"],
  ]);
  const before = h("input", { type: "datetime-local", name: "issued-before", "data-field": "issued_before" });
  const notify = h("input", { type: "checkbox", name: "send-email", checked: true });
  let outcome = "";
  const ok = await formDialog({
    title: self ? "Revoke your tokens?" : `Revoke the tokens of ${userId}?`,
    message: self
      ? "Revoked tokens stop working at once; this session too, if it uses one of them."
      : "Revoked tokens stop working at once.",
    body: [
      field("Which tokens", kind),
      field("Only those issued before", before, "In your time zone; leave empty for all of that kind."),
      self ? null : field("Email the user about it", notify),
    ],
    confirmLabel: "Revoke tokens",
    danger: true,
    submit: async () => {
      const at = localDateTime(before.value);
      const result = await access.revokeTokens({
        userId,
        kind: Number(kind.value) as TokenKind,
        issuedBefore: at ? timestampFromDate(at) : undefined,
        sendEmail: self ? undefined : notify.checked,
      });
      outcome = `Revoked ${result.loginTokensRevoked} login tokens and ${result.apiKeysRevoked} API keys of ${userId}.`;
    },
  });
  if (ok) done(outcome);
}

/** The section of one's own account page that revokes one's tokens. */
export function ownTokensSection(userId: string, done: Done): HTMLElement {
  const section = h(
    "section",
    { "aria-labelledby": "own-tokens-heading" },
    h("h2", { id: "own-tokens-heading" }, "Sessions and keys"),
    h("p", {}, "Lost a device or a key? Revoke your login tokens, your API keys, or both."),
  );
  section.append(
    h("button", { type: "button", onclick: () => void revokeTokens(userId, true, done) }, "Revoke my tokens…"),
  );
  return section;
}
