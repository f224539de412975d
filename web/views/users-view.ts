import { Right } from "../../gen/roster/v1/rights_pb.js";
import type { State, User } from "../../gen/roster/v1/user_pb.js";
import { builtInTag, isBuiltIn } from "../builtin-users.js";
import { users } from "../clients.js";
import { confirmAction } from "../confirm-dialog.js";
import { busy, field, h, onSubmit, replaceChildren, select } from "../dom.js";
import { stateLabel, states, timeElement } from "../format.js";
import { callThenReload, clearMessages, messageArea, showError } from "../messages.js";
import { href } from "../routes.js";
import { holds, type Session } from "../session.js";
import { notAllowed } from "./not-allowed.js";

/** The list's query and position; kept while the console is open, so that going back returns to the same page. */
interface ListQuery {
  query: string;
  /** Part of the email address (Search's email_contains). */
  email: string;
  /** Also the built-in `system` user. */
  builtIn: boolean;
  /** 0: any state. */
  state: State | 0;
  deleted: boolean;
  order: string;
  limit: number;
  /** The page_token of every page reached so far ("" for the first), so that Previous needs no token of its own. */
  tokens: string[];
  /** Index of the shown page in `tokens`. */
  index: number;
}

const current: ListQuery = {
  query: "",
  email: "",
  builtIn: false,
  state: 0,
  deleted: false,
  order: "user_id",
  limit: 25,
  tokens: [""],
  index: 0,
};

const orders = [
  ["user_id", "User ID"],
  ["name", "Name"],
  ["primary_email_address", "Email address"],
  ["state", "State"],
  ["-created_at", "Newest first"],
  ["created_at", "Oldest first"],
] as const;

const pageSizes = [10, 25, 50, 100];

/**
 * Users, a page at a time (UserRegistry.List, or Search when a text or a
 * state is given), with keyset page tokens: Next follows next_page_token,
 * Previous goes back to the token that led to the page before.
 */
export function usersView(options: { session: Session }): HTMLElement {
  const { session } = options;
  const main = h("main", { id: "main" }, h("h1", { tabindex: "-1" }, "Users"));
  if (!holds(session, Right.ADMIN_USERS_READ)) {
    main.append(notAllowed("Listing users", "RIGHT_ADMIN_USERS_READ"));
    return main;
  }
  const canWrite = holds(session, Right.ADMIN_USERS_WRITE);
  const messages = messageArea();

  const query = h("input", { type: "search", name: "query", value: current.query, autocomplete: "off" });
  const state = select(
    "state",
    [["0", "Any state"], ...states.map(([s, label]) => [String(s), label] as const)],
    String(current.state),
  );
  const email = h("input", { type: "search", name: "email", value: current.email, autocomplete: "off" });
  const deleted = h("input", { type: "checkbox", name: "deleted", checked: current.deleted });
  const builtIn = h("input", { type: "checkbox", name: "built-in", checked: current.builtIn });
  const order = select("order", orders, current.order);
  const limit = select(
    "limit",
    pageSizes.map((n) => [String(n), String(n)] as const),
    String(current.limit),
  );
  const filters = h(
    "form",
    { role: "search", class: "filters", "aria-label": "Find users" },
    field("Search ID, name or description", query),
    field("Email address contains", email),
    field("State", state),
    field("Order", order),
    field("Per page", limit),
    field("Deleted users", deleted),
    field("Built-in users", builtIn),
    h("button", { type: "submit" }, "Search"),
  );
  for (const control of [state, deleted, builtIn, order, limit])
    control.addEventListener("change", () => filters.requestSubmit());

  const summary = h("p", { id: "users-summary", class: "summary", "aria-live": "polite" });
  const table = h("table", { "aria-describedby": "users-summary" });
  const previous = h("button", { type: "button" }, "Previous page");
  const next = h("button", { type: "button" }, "Next page");
  const position = h("span", {});
  const pager = h("nav", { class: "pager", "aria-label": "Pages of users" }, previous, position, next);

  let generation = 0;
  const load = async (index = current.index) => {
    const mine = ++generation;
    const paths = ["name", "primary_email_address", "state", "admin", ...(current.deleted ? ["deleted_at"] : [])];
    const request = {
      fieldMask: { paths },
      order: current.order,
      limit: current.limit,
      pageToken: current.tokens[index] ?? "",
      deleted: current.deleted,
      includeSystem: current.builtIn,
      // Counted once per query, on its first page; later pages' tokens carry that count.
      exactTotal: index === 0,
    };
    table.setAttribute("aria-busy", "true");
    try {
      const page =
        current.query || current.email || current.state
          ? await users.search({
              ...request,
              query: current.query,
              emailContains: current.email,
              state: current.state ? [current.state] : [],
            })
          : await users.list(request);
      if (mine !== generation) return;
      current.index = index;
      current.tokens = current.tokens.slice(0, index + 1);
      if (page.nextPageToken) current.tokens.push(page.nextPageToken);
      const total = Number(page.totalSize);
      const first = current.index * current.limit + 1;
      const pages = Math.max(1, Math.ceil(total / current.limit));
      summary.textContent =
        page.users.length === 0
          ? "No users match."
          : `Users ${first}–${first + page.users.length - 1} of ${total}${current.deleted ? " (deleted)" : ""}.`;
      position.textContent = `Page ${current.index + 1} of ${pages}`;
      previous.disabled = current.index === 0;
      next.disabled = !page.nextPageToken;
      renderTable(page.users);
    } catch (error) {
      if (mine !== generation) return;
      showError(messages, error);
      previous.disabled = current.index === 0;
      next.disabled = current.tokens.length <= current.index + 1;
    } finally {
      if (mine === generation) table.removeAttribute("aria-busy");
    }
  };

  const renderTable = (rows: User[]) => {
    const headers = [
      "User ID",
      "Name",
      "Email address",
      "State",
      "Admin",
      ...(current.deleted ? ["Deleted", "Actions"] : []),
    ];
    replaceChildren(
      table,
      h("caption", { class: "visually-hidden" }, current.deleted ? "Deleted users" : "Users"),
      h("thead", {}, h("tr", {}, ...headers.map((label) => h("th", { scope: "col" }, label)))),
      h(
        "tbody",
        {},
        ...rows.map((user) =>
          h(
            "tr",
            {},
            h(
              "th",
              { scope: "row" },
              current.deleted
                ? user.userId
                : h("a", { href: href({ page: "user", userId: user.userId }) }, user.userId),
              isBuiltIn(user.userId) ? [" ", builtInTag()] : null,
            ),
            h("td", {}, user.name),
            h("td", {}, user.primaryEmailAddress),
            h("td", {}, stateLabel(user.state)),
            h("td", {}, user.admin ? "Yes" : "No"),
            current.deleted ? h("td", {}, timeElement(user.deletedAt)) : null,
            current.deleted ? h("td", { class: "row-actions" }, canWrite ? deletedActions(user) : "—") : null,
          ),
        ),
      ),
    );
  };

  const deletedActions = (user: User) => {
    const cell = h("div", { class: "actions" });
    cell.append(
      h(
        "button",
        {
          type: "button",
          onclick: () =>
            busy(cell, async () => {
              await callThenReload(
                messages,
                () => users.restore({ userId: user.userId }),
                `Restored ${user.userId}.`,
                load,
              );
            }),
          "aria-label": `Restore ${user.userId}`,
        },
        "Restore",
      ),
      h(
        "button",
        {
          type: "button",
          class: "danger",
          onclick: () =>
            busy(cell, async () => {
              const ok = await confirmAction({
                title: `Purge ${user.userId}?`,
                message: "The user, their tokens, keys and settings are removed for good, and the ID becomes free.",
                confirmLabel: "Purge user",
                danger: true,
                typeToConfirm: user.userId,
              });
              if (ok === undefined) return;
              await callThenReload(
                messages,
                () => users.purge({ userId: user.userId }),
                `Purged ${user.userId}.`,
                load,
              );
            }),
          "aria-label": `Purge ${user.userId}`,
        },
        "Purge…",
      ),
    );
    return cell;
  };

  onSubmit(filters, async () => {
    clearMessages(messages);
    current.query = query.value.trim();
    current.email = email.value.trim();
    current.builtIn = builtIn.checked;
    current.state = Number(state.value) as State | 0;
    current.deleted = deleted.checked;
    current.order = order.value;
    current.limit = Number(limit.value);
    current.tokens = [""];
    current.index = 0;
    await load();
  });
  const turn = (index: number) => {
    previous.disabled = true;
    next.disabled = true;
    void load(index);
  };
  previous.addEventListener("click", () => turn(Math.max(0, current.index - 1)));
  next.addEventListener("click", () => turn(current.index + 1));

  if (canWrite) {
    main.append(
      h("p", { class: "page-actions" }, h("a", { class: "button", href: href({ page: "new-user" }) }, "New user")),
    );
  }
  main.append(filters, messages, summary, h("div", { class: "table-wrap" }, table), pager);
  void load();
  return main;
}
