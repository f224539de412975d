/** A rendered email: subject, plain text and HTML. */
export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

/** Everything Roster sends, with what each message needs. */
export type EmailTemplate =
  | { kind: "invitation"; token: string; expiresAt: Date; registerUrl: string; invitedBy: string }
  | { kind: "temporary_password"; userId: string; password: string }
  | { kind: "password_changed"; userId: string }
  | { kind: "api_key_created"; userId: string; keyName: string; keyId: string; createdBy: string }
  | { kind: "state_changed"; userId: string; state: string; description: string }
  | { kind: "registration_pending"; userId: string; name: string; email: string }
  | { kind: "welcome"; userId: string; loginUrl: string }
  | {
      kind: "account_created";
      userId: string;
      by: string;
      loginUrl: string;
      /** Set when the server chose the password; else the admin gave it. */
      temporaryPassword?: string;
      mustChangePassword: boolean;
    }
  | { kind: "password_reset"; userId: string; url: string; expiresAt: Date }
  | { kind: "email_validation"; userId: string; email: string; url: string; expiresAt: Date }
  | { kind: "tokens_revoked"; userId: string; what: string; by: string; mustChangePassword: boolean }
  | { kind: "account_updated"; userId: string; fields: string[]; by: string }
  | { kind: "webhook_disabled"; webhookId: string; endpoint: string; failures: number; since: Date; lastError: string };

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

/** Make the (already escaped) http(s) addresses of a paragraph links. */
const linked = (html: string) => html.replace(/\bhttps?:\/\/[^\s<]+/g, (url) => `<a href="${url}">${url}</a>`);

/** Render the plain-text paragraphs as the text part and as simple HTML. */
function render(subject: string, paragraphs: string[]): EmailContent {
  const text = `${paragraphs.join("\n\n")}\n\n-- \nRoster\n`;
  const html =
    `<!doctype html><html><body style="font-family: sans-serif">` +
    paragraphs.map((p) => `<p>${linked(escapeHtml(p)).replace(/\n/g, "<br>")}</p>`).join("") +
    `<p style="color:#777">Roster</p></body></html>`;
  return { subject, text, html };
}

const stateWords: Record<string, string> = {
  APPROVED: "approved: you can now sign in",
  REJECTED: "rejected",
  SUSPENDED: "suspended: you cannot sign in until an administrator reactivates it",
  FLAGGED: "flagged for review: you cannot sign in until an administrator approves it",
  REQUESTED: "waiting for an administrator's approval",
};

export function renderEmail(t: EmailTemplate): EmailContent {
  switch (t.kind) {
    case "invitation":
      return render("You are invited to Roster", [
        `${t.invitedBy} invited you to create an account.`,
        `Your invitation token:\n${t.token}`,
        `Register with it at ${t.registerUrl} or with the command line:\n  roster users create <your-user-id> --invitation-token ${t.token}`,
        `The invitation expires on ${t.expiresAt.toUTCString()}.`,
      ]);
    case "temporary_password":
      return render("Your temporary password", [
        `A temporary password was set for your account ${t.userId}:`,
        t.password,
        "Sign in with it and choose a new password; until you do, you can do nothing else.",
      ]);
    case "password_changed":
      return render("Your password was changed", [
        `The password of your account ${t.userId} was just changed.`,
        "If you did not do this, contact your administrator at once.",
      ]);
    case "api_key_created":
      return render("A new API key was created for your account", [
        `An API key named "${t.keyName}" (${t.keyId}) was created for your account ${t.userId} by ${t.createdBy}.`,
        "If you did not expect this, contact your administrator.",
      ]);
    case "state_changed":
      return render(`Your account is ${t.state.toLowerCase()}`, [
        `Your account ${t.userId} was ${stateWords[t.state] ?? t.state.toLowerCase()}.`,
        ...(t.description ? [`Reason: ${t.description}`] : []),
      ]);
    case "registration_pending":
      return render(`New account awaiting approval: ${t.userId}`, [
        `${t.name || t.userId} <${t.email}> registered as ${t.userId} and awaits approval.`,
        `Approve with:\n  roster users update ${t.userId} --state APPROVED`,
      ]);
    case "tokens_revoked":
      return render("Your sign-ins were revoked", [
        `${t.by} revoked the ${t.what} of your account ${t.userId}.`,
        ...(t.mustChangePassword
          ? ["Sign in again and choose a new password; until you do, you can do nothing else."]
          : []),
        "If you did not expect this, contact your administrator.",
      ]);
    case "account_updated":
      return render("Your account was changed", [
        `${t.by} changed your account ${t.userId}: ${t.fields.join(", ")}.`,
        "If you did not expect this, contact your administrator.",
      ]);
    case "account_created":
      return render("An account was created for you", [
        `${t.by} created the account ${t.userId} for you.`,
        ...(t.temporaryPassword
          ? [`Your temporary password:\n${t.temporaryPassword}`]
          : ["Sign in with the password you were given."]),
        `Sign in at ${t.loginUrl} or with: roster login ${t.userId}`,
        ...(t.mustChangePassword ? ["You will choose a new password when you first sign in."] : []),
      ]);
    case "webhook_disabled":
      return render(`Webhook ${t.webhookId} was disabled`, [
        `The webhook ${t.webhookId} (${t.endpoint}) was disabled: its last ${t.failures} delivery attempts failed, since ${t.since.toUTCString()}.`,
        ...(t.lastError ? [`The last attempt: ${t.lastError}`] : []),
        "Nothing is sent to it until it is enabled again; what was recorded meanwhile is then delivered. " +
          `Check the endpoint, then:\n  roster webhooks deliveries ${t.webhookId}\n  roster webhooks test ${t.webhookId}\n  roster webhooks update ${t.webhookId} --disabled=false`,
      ]);
    case "password_reset":
      return render("Reset your password", [
        `Somebody (hopefully you) asked to reset the password of your account ${t.userId}.`,
        `Choose a new password at:\n${t.url}`,
        `The link works once, until ${t.expiresAt.toUTCString()}. If you did not ask for it, ignore this email: your password stays as it is.`,
      ]);
    case "email_validation":
      return render("Confirm your email address", [
        `Confirm that ${t.email} is the address of your account ${t.userId} by opening:\n${t.url}`,
        `The link works once, until ${t.expiresAt.toUTCString()}.`,
      ]);
    case "welcome":
      return render("Your account is ready", [
        `Your account ${t.userId} is set up and ready to use.`,
        `Sign in at ${t.loginUrl} or with: roster login`,
      ]);
  }
}
