import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Right } from "../../gen/roster/v1/rights_pb.js";
import { type TokenRequest, TokenRequestStatus } from "../../gen/roster/v1/user_access_pb.js";
import { access } from "../clients.js";
import { appendChildren, busy, field, h, onSubmit, replaceChildren, select } from "../dom.js";
import { checkControls, clearFieldErrors } from "../field-errors.js";
import { formDialog } from "../form-dialog.js";
import { localDateTime, timeElement } from "../format.js";
import { clearMessages, messageArea, showError, showFormError, showNotice } from "../messages.js";
import { oneTimeSecret } from "../one-time-secret.js";
import { countSummary, pagedTable } from "../paged-table.js";
import { rightName } from "../rights.js";
import { rightsFieldset } from "../rights-fieldset.js";
import { href } from "../routes.js";
import { holds, type Session } from "../session.js";
import { notAllowed } from "./not-allowed.js";

const pageSize = 25;

const statuses: readonly (readonly [TokenRequestStatus, string])[] = [
  [TokenRequestStatus.PENDING, "Pending"],
  [TokenRequestStatus.GRANTED, "Granted"],
  [TokenRequestStatus.DENIED, "Denied"],
  [TokenRequestStatus.RETRIEVED, "Retrieved"],
];

const statusLabel = (status: TokenRequestStatus) => statuses.find(([s]) => s === status)?.[1] ?? "Unspecified";

/**
 * Requests for API keys (REANA's token requests). Admins see everybody's
 * and grant (with an expiry and a note) or deny (with a note) pending
 * ones; a user asks for a key and retrieves a granted one, shown once.
 */
export function tokenRequestsView(options: { session: Session }): HTMLElement {
  const { session } = options;
  const main = h("main", { id: "main" }, h("h1", { tabindex: "-1" }, "Token requests"));
  if (!holds(session, Right.USER_INFO)) {
    main.append(notAllowed("Token requests", "RIGHT_USER_INFO"));
    return main;
  }
  const admin = holds(session, Right.ADMIN_USERS_WRITE);
  const canRetrieve = holds(session, Right.USER_API_KEYS);
  const messages = messageArea();
  const secrets = h("div", { class: "secrets" });

  const name = h("input", { type: "text", name: "request-name", required: true, maxlength: 100, "data-field": "name" });
  const reason = h("textarea", { name: "reason", rows: 2, required: true, maxlength: 1000 });
  reason.dataset.field = "reason";
  const rights = rightsFieldset({
    admin: false,
    dataField: "rights",
    hint: "None checked: every right you may hold.",
  });
  const requestForm = h(
    "form",
    { class: "request-key", "aria-labelledby": "request-heading", novalidate: true },
    h("h2", { id: "request-heading" }, "Ask for an API key"),
    field("Name for the key", name),
    rights.element,
    field("Why you need it", reason, "Shown to the administrators."),
    h("button", { type: "submit", class: "primary" }, "Send request"),
  );
  onSubmit(requestForm, async () => {
    clearMessages(messages);
    if (!checkControls(requestForm)) return;
    try {
      const made = await access.createTokenRequest({
        name: name.value.trim(),
        rights: rights.checked(),
        reason: reason.value.trim(),
      });
      clearFieldErrors(requestForm);
      showNotice(messages, `Sent the request ${made.tokenRequest?.id}; an administrator will grant or deny it.`);
      name.value = "";
      reason.value = "";
      rights.clear();
      await load(1);
    } catch (error) {
      showFormError(messages, requestForm, error, { RIGHTS_EXCEEDED: "rights" });
    }
  });

  const status = select("status", [
    [String(TokenRequestStatus.UNSPECIFIED), "Any status"],
    ...statuses.map(([s, label]) => [String(s), label] as const),
  ]);
  const filter = h("form", { class: "filters", "aria-label": "Filter token requests" }, field("Status", status));
  onSubmit(filter, () => load(1));
  status.addEventListener("change", () => filter.requestSubmit());

  const { summary, table, previous, next, position, load } = pagedTable({
    summaryId: "requests-summary",
    pageSize,
    fetch: async (wanted) => {
      const list = await access.listTokenRequests({
        allUsers: admin,
        status: Number(status.value) as TokenRequestStatus,
        limit: pageSize,
        page: wanted,
      });
      return { rows: list.tokenRequests, total: Number(list.totalSize) };
    },
    summarize: ({ total }) => countSummary(total, "token request", "token requests", "No token requests."),
    render: (_table, rows) => renderTable(rows),
    messages,
  });

  const renderTable = (rows: TokenRequest[]) => {
    const headers = ["ID", "User", "Key name", "Rights", "Reason", "Status", "Asked", "Decision", "Actions"];
    replaceChildren(
      table,
      h("caption", { class: "visually-hidden" }, "Token requests"),
      h("thead", {}, h("tr", {}, ...headers.map((label) => h("th", { scope: "col" }, label)))),
      h(
        "tbody",
        {},
        ...rows.map((request) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, h("code", {}, request.id)),
            h(
              "td",
              {},
              admin ? h("a", { href: href({ page: "user", userId: request.userId }) }, request.userId) : request.userId,
            ),
            h("td", {}, request.name),
            h("td", {}, request.rights.map(rightName).join(", ") || "—"),
            h("td", {}, request.reason),
            h("td", {}, statusLabel(request.status)),
            h("td", {}, timeElement(request.createdAt)),
            h("td", {}, decision(request)),
            h("td", { class: "row-actions" }, rowActions(request)),
          ),
        ),
      ),
    );
  };

  const decision = (request: TokenRequest) =>
    request.decidedBy
      ? h(
          "span",
          {},
          timeElement(request.decidedAt),
          ` by ${request.decidedBy}`,
          request.decisionNote ? `: ${request.decisionNote}` : "",
        )
      : "—";

  const rowActions = (request: TokenRequest) => {
    const cell = h("div", { class: "actions" });
    const button = (label: string, aria: string, run: () => Promise<void>, danger = false) =>
      h(
        "button",
        { type: "button", class: danger ? "danger" : undefined, "aria-label": aria, onclick: () => busy(cell, run) },
        label,
      );
    if (admin && request.status === TokenRequestStatus.PENDING) {
      cell.append(
        button("Grant…", `Grant the request ${request.id} of ${request.userId}`, () => grant(request)),
        button("Deny…", `Deny the request ${request.id} of ${request.userId}`, () => deny(request), true),
      );
    }
    if (canRetrieve && request.userId === session.userId && request.status === TokenRequestStatus.GRANTED) {
      cell.append(button("Retrieve key", `Retrieve the key of request ${request.id}`, () => retrieve(request)));
    }
    return cell.childElementCount > 0 ? cell : "—";
  };

  const grant = async (request: TokenRequest) => {
    const expires = h("input", { type: "datetime-local", name: "expires-at", "data-field": "expires_at" });
    const note = h("input", { type: "text", name: "note", maxlength: 1000, "data-field": "note" });
    const granted = await formDialog({
      title: `Grant the request of ${request.userId}?`,
      message: `An API key named ${request.name} is made; ${request.userId} retrieves it once.`,
      body: [
        field("Key expires at", expires, "In your time zone; leave empty for a key that never expires."),
        field("Note for the requester", note),
      ],
      confirmLabel: "Grant request",
      submit: async () => {
        const at = localDateTime(expires.value);
        await access.grantTokenRequest({
          id: request.id,
          expiresAt: at ? timestampFromDate(at) : undefined,
          note: note.value.trim(),
        });
      },
    });
    if (!granted) return;
    showNotice(messages, `Granted the request ${request.id} of ${request.userId}.`);
    await load();
  };

  const deny = async (request: TokenRequest) => {
    const note = h("input", { type: "text", name: "note", maxlength: 1000, "data-field": "note" });
    const denied = await formDialog({
      title: `Deny the request of ${request.userId}?`,
      message: "No key is made; the requester sees your note.",
      body: [field("Why (shown to the requester)", note)],
      confirmLabel: "Deny request",
      danger: true,
      submit: async () => {
        await access.denyTokenRequest({ id: request.id, note: note.value.trim() });
      },
    });
    if (!denied) return;
    showNotice(messages, `Denied the request ${request.id} of ${request.userId}.`);
    await load();
  };

  const retrieve = async (request: TokenRequest) => {
    try {
      const got = await access.retrieveTokenRequestKey({ id: request.id });
      secrets.replaceChildren(oneTimeSecret(`API key ${got.apiKey?.name}.`, got.key));
      await load();
    } catch (error) {
      showError(messages, error);
    }
  };

  appendChildren(
    main,
    messages,
    secrets,
    admin ? null : requestForm,
    h("h2", {}, admin ? "Requests of every user" : "Your requests"),
    filter,
    summary,
    h("div", { class: "table-wrap" }, table),
    h("nav", { class: "pager", "aria-label": "Pages of token requests" }, previous, position, next),
  );
  void load(1);
  return main;
}
