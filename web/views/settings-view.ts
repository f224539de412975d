import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { Right } from "../../gen/roster/v1/rights_pb.js";
import { isBuiltIn } from "../builtin-users.js";
import { settings } from "../clients.js";
import { confirmAction } from "../confirm-dialog.js";
import { appendChildren, busy, field, h, onSubmit, replaceChildren } from "../dom.js";
import { checkControls, clearFieldErrors, markField } from "../field-errors.js";
import { callThenReload, clearMessages, messageArea, showError, showFormError, showNotice } from "../messages.js";
import { holds, type Session } from "../session.js";
import { userBreadcrumb, userSubnav } from "../user-subnav.js";
import { notAllowed } from "./not-allowed.js";

/** Setting keys, as the server checks them. */
const keyPattern = "[a-zA-Z0-9][a-zA-Z0-9_\\-]{0,63}";

/** `text` as JSON, or the parser's complaint. */
function parseJson(text: string): { value: JsonValue } | { problem: string } {
  try {
    return { value: JSON.parse(text) as JsonValue };
  } catch (error) {
    return { problem: `is not JSON (${(error as Error).message}); write text in double quotes: "dark"` };
  }
}

/** JSON on one line for short values, indented for long ones. */
function showJson(value: JsonValue | undefined): string {
  const line = JSON.stringify(value ?? null);
  return line.length <= 60 ? line : JSON.stringify(value, null, 2);
}

/**
 * The key/value settings of one user (UserSettings), values being any
 * JSON: set one (add or replace), delete one, or replace them all at once
 * against the etag that was read.
 */
export function settingsView(options: { session: Session; userId: string }): HTMLElement {
  const { session, userId } = options;
  const self = userId === session.userId;
  const main = h(
    "main",
    { id: "main" },
    userBreadcrumb(session, userId, "Settings"),
    h("h1", { tabindex: "-1" }, `Settings of ${userId}`),
    userSubnav(session, userId, "settings"),
  );
  const canRead = self ? holds(session, Right.USER_INFO) : holds(session, Right.ADMIN_USERS_READ);
  if (!canRead || isBuiltIn(userId)) {
    main.append(notAllowed("Reading these settings", self ? "RIGHT_USER_INFO" : "RIGHT_ADMIN_USERS_READ"));
    return main;
  }
  const canWrite = self ? holds(session, Right.USER_SETTINGS) : holds(session, Right.ADMIN_USERS_WRITE);
  const messages = messageArea();
  let etag = "";

  const key = h("input", {
    type: "text",
    name: "setting-key",
    required: true,
    pattern: keyPattern,
    maxlength: 64,
    autocomplete: "off",
    spellcheck: "false",
    "data-field": "key",
    "data-invalid-message": "Letters, digits, - and _, starting with a letter or digit; at most 64.",
  });
  const value = h("textarea", { name: "setting-value", rows: 3, required: true, spellcheck: "false" });
  value.dataset.field = "value";
  const setForm = h(
    "form",
    { class: "set-setting", "aria-labelledby": "set-setting-heading", novalidate: true },
    h("h2", { id: "set-setting-heading" }, "Set a setting"),
    field("Key", key, "Letters, digits, - and _; an existing key is replaced."),
    field("Value (JSON)", value, 'Any JSON: "dark", 12, true, null, ["a", "b"], {"keymap": "vim"}.'),
    h("button", { type: "submit", class: "primary" }, "Set setting"),
  );
  onSubmit(setForm, async () => {
    clearMessages(messages);
    if (!checkControls(setForm)) return;
    const parsed = parseJson(value.value);
    if ("problem" in parsed) {
      markField(value, `Value ${parsed.problem}`);
      value.focus();
      return;
    }
    try {
      await settings.set({ userId, key: key.value, value: fromJson(ValueSchema, parsed.value) });
      clearFieldErrors(setForm);
      showNotice(messages, `Set ${key.value}.`);
      key.value = "";
      value.value = "";
      await load();
    } catch (error) {
      showFormError(messages, setForm, error);
    }
  });

  const all = h("textarea", { name: "all-settings", rows: 8, spellcheck: "false", "data-field": "settings" });
  const replaceForm = h(
    "form",
    { class: "replace-settings", "aria-labelledby": "replace-heading", novalidate: true },
    h("h2", { id: "replace-heading" }, "Replace all settings"),
    field(
      "All settings (a JSON object)",
      all,
      "Keys missing here are deleted. Refused if the settings changed since this page read them.",
    ),
    h("button", { type: "submit" }, "Replace all settings"),
  );
  onSubmit(replaceForm, async () => {
    clearMessages(messages);
    clearFieldErrors(replaceForm);
    const parsed = parseJson(all.value);
    if (
      "problem" in parsed ||
      parsed.value === null ||
      typeof parsed.value !== "object" ||
      Array.isArray(parsed.value)
    ) {
      markField(all, "problem" in parsed ? `Settings ${parsed.problem}` : "Settings must be a JSON object: {…}");
      all.focus();
      return;
    }
    try {
      await settings.replace({ userId, settings: parsed.value as JsonObject, etag });
      showNotice(messages, "Replaced all settings.");
      await load();
    } catch (error) {
      showFormError(messages, replaceForm, error);
    }
  });

  const summary = h("p", { id: "settings-summary", class: "summary", "aria-live": "polite" });
  const table = h("table", { "aria-describedby": "settings-summary" });

  const load = async () => {
    table.setAttribute("aria-busy", "true");
    try {
      const list = await settings.list({ userId });
      etag = list.etag;
      const entries = Object.entries(list.settings ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
      summary.textContent = entries.length === 0 ? "No settings." : `${entries.length} settings.`;
      all.value = JSON.stringify(Object.fromEntries(entries), null, 2);
      renderTable(entries);
    } catch (error) {
      showError(messages, error);
    } finally {
      table.removeAttribute("aria-busy");
    }
  };

  const renderTable = (entries: [string, JsonValue][]) => {
    replaceChildren(
      table,
      h("caption", { class: "visually-hidden" }, `Settings of ${userId}`),
      h("thead", {}, h("tr", {}, ...["Key", "Value", "Actions"].map((label) => h("th", { scope: "col" }, label)))),
      h(
        "tbody",
        {},
        ...entries.map(([k, v]) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, k),
            h("td", {}, h("pre", { class: "json" }, showJson(v))),
            h("td", { class: "row-actions" }, canWrite ? rowActions(k, v) : "—"),
          ),
        ),
      ),
    );
  };

  const rowActions = (k: string, v: JsonValue) => {
    const cell = h("div", { class: "actions" });
    cell.append(
      h(
        "button",
        {
          type: "button",
          "aria-label": `Edit the setting ${k}`,
          onclick: () => {
            key.value = k;
            value.value = JSON.stringify(v, null, 2);
            value.focus();
          },
        },
        "Edit",
      ),
      h(
        "button",
        {
          type: "button",
          class: "danger",
          "aria-label": `Delete the setting ${k}`,
          onclick: () => busy(cell, () => remove(k)),
        },
        "Delete…",
      ),
    );
    return cell;
  };

  const remove = async (k: string) => {
    const ok = await confirmAction({
      title: `Delete the setting ${k}?`,
      message: "Its value is removed for good.",
      confirmLabel: "Delete setting",
      danger: true,
    });
    if (ok === undefined) return;
    await callThenReload(messages, () => settings.delete({ userId, key: k }), `Deleted ${k}.`, load);
  };

  appendChildren(
    main,
    messages,
    canWrite ? setForm : null,
    h("h2", {}, "Current settings"),
    summary,
    h("div", { class: "table-wrap" }, table),
    canWrite ? replaceForm : null,
  );
  void load();
  return main;
}
