import { type Invitation, InvitationStatus } from "../../gen/roster/v1/invitation_registry_pb.js";
import { Right } from "../../gen/roster/v1/rights_pb.js";
import { invitations } from "../clients.js";
import { confirmAction } from "../confirm-dialog.js";
import { busy, field, h, onSubmit, replaceChildren, select } from "../dom.js";
import { checkControls } from "../field-errors.js";
import { invitationStatuses, invitationStatusLabel, timeElement } from "../format.js";
import { callThenReload, clearMessages, messageArea, showError, showFormError, showNotice } from "../messages.js";
import { oneTimeSecret } from "../one-time-secret.js";
import { countSummary, pagedTable } from "../paged-table.js";
import { holds, type Session } from "../session.js";
import { notAllowed } from "./not-allowed.js";

const pageSize = 25;
const hour = 3600;

/**
 * Invitations: send one (InvitationRegistry.Send; the token is shown once),
 * list them (every status, or one) a page at a time, revoke a pending one and resend a
 * pending or expired one (a new token, shown once).
 */
export function invitationsView(options: { session: Session }): HTMLElement {
  const main = h("main", { id: "main" }, h("h1", { tabindex: "-1" }, "Invitations"));
  if (!holds(options.session, Right.ADMIN_INVITATIONS)) {
    main.append(notAllowed("Managing invitations", "RIGHT_ADMIN_INVITATIONS"));
    return main;
  }
  const messages = messageArea();
  const secrets = h("div", { class: "secrets" });

  const email = h("input", {
    type: "email",
    name: "email",
    required: true,
    autocomplete: "off",
    "data-field": "email",
  });
  const amount = h("input", {
    type: "number",
    name: "expires-in",
    min: 1,
    step: 1,
    inputmode: "numeric",
    "data-field": "expires_in",
  });
  const unit = select("expires-unit", [
    [String(24 * hour), "days"],
    [String(hour), "hours"],
  ]);
  const admin = h("input", { type: "checkbox", name: "admin" });
  const sendEmail = h("input", { type: "checkbox", name: "send-email", checked: true });
  const sendForm = h(
    "form",
    { class: "send-invitation", "aria-labelledby": "send-heading", novalidate: true },
    h("h2", { id: "send-heading" }, "Send an invitation"),
    field("Email address", email),
    h(
      "div",
      { class: "inline" },
      field("Expires in", amount, "Leave empty for the server's default (7 days)."),
      field("Unit", unit),
    ),
    field("Make the new user an administrator", admin),
    field("Email the invitation", sendEmail, "Otherwise give the token to the invitee yourself."),
    h("button", { type: "submit", class: "primary" }, "Send invitation"),
  );
  onSubmit(sendForm, async () => {
    clearMessages(messages);
    if (!checkControls(sendForm)) return;
    const seconds = amount.value ? Math.round(Number(amount.value) * Number(unit.value)) : 0;
    try {
      const sent = await invitations.send({
        email: email.value.trim(),
        expiresIn: seconds > 0 ? { seconds: BigInt(seconds) } : undefined,
        admin: admin.checked,
        sendEmail: sendEmail.checked,
      });
      const to = sent.invitation?.email ?? email.value.trim();
      showNotice(messages, `Invited ${to}${sendEmail.checked ? "; the invitation is on its way by email" : ""}.`);
      if (sent.token) secrets.replaceChildren(oneTimeSecret(`Invitation token for ${to}.`, sent.token));
      email.value = "";
      await load(1);
    } catch (error) {
      showFormError(messages, sendForm, error, { INVITATION_PENDING: "email", EMAIL_TAKEN: "email" });
    }
  });

  const status = select(
    "status",
    [
      [String(InvitationStatus.UNSPECIFIED), "Any status"],
      ...invitationStatuses.map(([s, label]) => [String(s), label] as const),
    ],
    String(InvitationStatus.UNSPECIFIED),
  );
  const filter = h("form", { class: "filters", "aria-label": "Filter invitations" }, field("Status", status));
  onSubmit(filter, () => load(1));
  status.addEventListener("change", () => filter.requestSubmit());

  const { summary, table, previous, next, position, load } = pagedTable({
    summaryId: "invitations-summary",
    pageSize,
    fetch: async (wanted) => {
      const list = await invitations.list({
        status: Number(status.value) as InvitationStatus,
        limit: pageSize,
        page: wanted,
      });
      return { rows: list.invitations, total: Number(list.totalSize) };
    },
    summarize: ({ rows, total }) =>
      rows.length === 0 ? "No invitations." : countSummary(total, "invitation", "invitations", ""),
    render: (_table, rows) => renderTable(rows),
    messages,
  });

  const renderTable = (rows: Invitation[]) => {
    const headers = ["Email address", "Status", "Expires", "Sent", "Sent by", "Accepted by", "Admin", "Actions"];
    replaceChildren(
      table,
      h("caption", { class: "visually-hidden" }, "Invitations"),
      h("thead", {}, h("tr", {}, ...headers.map((label) => h("th", { scope: "col" }, label)))),
      h(
        "tbody",
        {},
        ...rows.map((invitation) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, invitation.email),
            h("td", {}, invitationStatusLabel(invitation.status)),
            h("td", {}, timeElement(invitation.expiresAt)),
            h("td", {}, timeElement(invitation.sentAt)),
            h("td", {}, invitation.createdBy || "—"),
            h("td", {}, invitation.acceptedBy || "—"),
            h("td", {}, invitation.admin ? "Yes" : "No"),
            h("td", { class: "row-actions" }, rowActions(invitation)),
          ),
        ),
      ),
    );
  };

  const rowActions = (invitation: Invitation) => {
    const cell = h("div", { class: "actions" });
    const pending = invitation.status === InvitationStatus.PENDING;
    if (pending || invitation.status === InvitationStatus.EXPIRED) {
      cell.append(
        h(
          "button",
          {
            type: "button",
            "aria-label": `Resend the invitation of ${invitation.email}`,
            onclick: () => busy(cell, () => resend(invitation.email)),
          },
          "Resend",
        ),
      );
    }
    if (pending) {
      cell.append(
        h(
          "button",
          {
            type: "button",
            class: "danger",
            "aria-label": `Revoke the invitation of ${invitation.email}`,
            onclick: () => busy(cell, () => revoke(invitation.email)),
          },
          "Revoke…",
        ),
      );
    }
    return cell;
  };

  const resend = async (to: string) => {
    try {
      const sent = await invitations.resend({ email: to });
      showNotice(messages, `Sent the invitation of ${to} again; its old token no longer works.`);
      if (sent.token) secrets.replaceChildren(oneTimeSecret(`New invitation token for ${to}.`, sent.token));
      await load();
    } catch (error) {
      showError(messages, error);
    }
  };

  const revoke = async (to: string) => {
    const ok = await confirmAction({
      title: `Revoke the invitation of ${to}?`,
      message: "Its token stops working at once.",
      confirmLabel: "Revoke invitation",
      danger: true,
    });
    if (ok === undefined) return;
    await callThenReload(messages, () => invitations.delete({ email: to }), `Revoked the invitation of ${to}.`, load);
  };

  main.append(
    sendForm,
    messages,
    secrets,
    h("h2", {}, "Sent invitations"),
    filter,
    summary,
    h("div", { class: "table-wrap" }, table),
    h("nav", { class: "pager", "aria-label": "Pages of invitations" }, previous, position, next),
  );
  void load(1);
  return main;
}
