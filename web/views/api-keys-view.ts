import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Right } from "../../gen/roster/v1/rights_pb.js";
import type { APIKey } from "../../gen/roster/v1/user_access_pb.js";
import { isBuiltIn } from "../builtin-users.js";
import { access } from "../clients.js";
import { confirmAction } from "../confirm-dialog.js";
import { appendChildren, busy, field, h, onSubmit, replaceChildren } from "../dom.js";
import { checkControls, clearFieldErrors } from "../field-errors.js";
import { localDateTime, timeElement } from "../format.js";
import { callThenReload, clearMessages, messageArea, showFormError, showNotice } from "../messages.js";
import { oneTimeSecret } from "../one-time-secret.js";
import { countSummary, pagedTable } from "../paged-table.js";
import { rightName } from "../rights.js";
import { rightsFieldset } from "../rights-fieldset.js";
import { holds, type Session } from "../session.js";
import { userBreadcrumb, userSubnav } from "../user-subnav.js";
import { editApiKey } from "./api-key-edit.js";
import { notAllowed } from "./not-allowed.js";

const pageSize = 25;

/**
 * The API keys of one user (UserAccess.ListAPIKeys, newest first, with
 * their last use): create one with rights and an expiry (the secret is
 * shown once), expire one (ExpireAPIKey: it stops working, the record
 * stays) or delete one. Admins manage anybody's keys, users their own.
 */
export function apiKeysView(options: { session: Session; userId: string }): HTMLElement {
  const { session, userId } = options;
  const self = userId === session.userId;
  const main = h(
    "main",
    { id: "main" },
    userBreadcrumb(session, userId, "API keys"),
    h("h1", { tabindex: "-1" }, `API keys of ${userId}`),
    userSubnav(session, userId, "api-keys"),
  );
  const canRead = self ? holds(session, Right.USER_API_KEYS) : holds(session, Right.ADMIN_USERS_READ);
  if (!canRead || isBuiltIn(userId)) {
    main.append(notAllowed("Managing these API keys", self ? "RIGHT_USER_API_KEYS" : "RIGHT_ADMIN_USERS_READ"));
    return main;
  }
  const canWrite = self ? holds(session, Right.USER_API_KEYS) : holds(session, Right.ADMIN_USERS_WRITE);
  const messages = messageArea();
  const secrets = h("div", { class: "secrets" });

  const name = h("input", { type: "text", name: "key-name", required: true, maxlength: 100, "data-field": "name" });
  const rights = rightsFieldset({
    admin: session.admin,
    dataField: "rights",
    hint: "None checked: every right you hold, limited when used to what the user may hold.",
  });
  const expires = h("input", { type: "datetime-local", name: "expires-at", "data-field": "expires_at" });
  const notify = h("input", { type: "checkbox", name: "send-email", checked: !self });
  const createForm = h(
    "form",
    { class: "create-key", "aria-labelledby": "create-key-heading", novalidate: true },
    h("h2", { id: "create-key-heading" }, "Create an API key"),
    field("Name", name, "Unique among the user's keys, to recognise the key by."),
    rights.element,
    field("Expires at", expires, "In your time zone; leave empty for a key that never expires."),
    field("Email the user that a key was created", notify),
    h("button", { type: "submit", class: "primary" }, "Create API key"),
  );
  onSubmit(createForm, async () => {
    clearMessages(messages);
    if (!checkControls(createForm)) return;
    const expiresAt = localDateTime(expires.value);
    try {
      const created = await access.createAPIKey({
        userId,
        name: name.value.trim(),
        rights: rights.checked(),
        expiresAt: expiresAt ? timestampFromDate(expiresAt) : undefined,
        sendEmail: notify.checked,
      });
      clearFieldErrors(createForm);
      showNotice(messages, `Created the API key ${created.apiKey?.name} (${created.apiKey?.id}).`);
      secrets.replaceChildren(oneTimeSecret(`API key ${created.apiKey?.name} of ${userId}.`, created.key));
      name.value = "";
      expires.value = "";
      rights.clear();
      await load(1);
    } catch (error) {
      showFormError(messages, createForm, error, { API_KEY_NAME_TAKEN: "name", RIGHTS_EXCEEDED: "rights" });
    }
  });

  const { summary, table, previous, next, position, load } = pagedTable({
    summaryId: "keys-summary",
    pageSize,
    fetch: async (wanted) => {
      const list = await access.listAPIKeys({ userId, limit: pageSize, page: wanted });
      return { rows: list.apiKeys, total: Number(list.totalSize) };
    },
    summarize: ({ total }) => countSummary(total, "API key", "API keys", "No API keys."),
    render: (_table, rows) => renderTable(rows),
    messages,
  });

  const renderTable = (keys: APIKey[]) => {
    const headers = ["Name", "ID", "Rights", "Created", "Expires", "Last used", "Status", "Actions"];
    replaceChildren(
      table,
      h("caption", { class: "visually-hidden" }, `API keys of ${userId}`),
      h("thead", {}, h("tr", {}, ...headers.map((label) => h("th", { scope: "col" }, label)))),
      h(
        "tbody",
        {},
        ...keys.map((key) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, key.name),
            h("td", {}, h("code", {}, key.id)),
            h("td", {}, key.rights.map(rightName).join(", ") || "—"),
            h("td", {}, timeElement(key.createdAt), key.createdBy ? ` by ${key.createdBy}` : ""),
            h("td", {}, key.expiresAt ? timeElement(key.expiresAt) : "Never"),
            h("td", {}, key.lastUsedAt ? timeElement(key.lastUsedAt) : "Never"),
            h("td", {}, key.expired ? "Expired" : "Active"),
            h("td", { class: "row-actions" }, canWrite ? rowActions(key) : "—"),
          ),
        ),
      ),
    );
  };

  const rowActions = (key: APIKey) => {
    const cell = h("div", { class: "actions" });
    cell.append(
      h(
        "button",
        { type: "button", "aria-label": `Edit the API key ${key.name}`, onclick: () => busy(cell, () => edit(key)) },
        "Edit…",
      ),
    );
    if (!key.expired) {
      cell.append(
        h(
          "button",
          {
            type: "button",
            "aria-label": `Expire the API key ${key.name}`,
            onclick: () => busy(cell, () => expire(key)),
          },
          "Expire…",
        ),
      );
    }
    cell.append(
      h(
        "button",
        {
          type: "button",
          class: "danger",
          "aria-label": `Delete the API key ${key.name}`,
          onclick: () => busy(cell, () => remove(key)),
        },
        "Delete…",
      ),
    );
    return cell;
  };

  const edit = async (key: APIKey) => {
    const changed = await editApiKey({ userId, key, admin: session.admin });
    if (!changed) return;
    showNotice(messages, `Changed the API key ${key.name}: ${changed.join(", ")}.`);
    await load();
  };

  const expire = async (key: APIKey) => {
    const ok = await confirmAction({
      title: `Expire the API key ${key.name}?`,
      message: "It stops working at once; it stays listed, with when it expired.",
      confirmLabel: "Expire API key",
      danger: true,
    });
    if (ok === undefined) return;
    await callThenReload(
      messages,
      () => access.expireAPIKey({ userId, id: key.id }),
      `The API key ${key.name} expired.`,
      load,
    );
  };

  const remove = async (key: APIKey) => {
    const ok = await confirmAction({
      title: `Delete the API key ${key.name}?`,
      message: "It stops working at once and is removed from the list.",
      confirmLabel: "Delete API key",
      danger: true,
    });
    if (ok === undefined) return;
    await callThenReload(
      messages,
      () => access.deleteAPIKey({ userId, id: key.id }),
      `Deleted the API key ${key.name}.`,
      load,
    );
  };

  appendChildren(
    main,
    messages,
    secrets,
    canWrite ? createForm : null,
    h("h2", {}, "Keys"),
    summary,
    h("div", { class: "table-wrap" }, table),
    h("nav", { class: "pager", "aria-label": "Pages of API keys" }, previous, position, next),
  );
  void load(1);
  return main;
}
