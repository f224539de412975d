import type { Event } from "../../gen/roster/v1/events_pb.js";
import { events } from "../clients.js";
import { busy, h } from "../dom.js";
import { timeElement } from "../format.js";
import { messageArea, showError } from "../messages.js";

/** Events shown at first, and added by each "Show older events". */
const pageSize = 10;

/** Who made a change, for people: the user and the credential they used. */
export function actorLabel(event: Event): string {
  const actor = event.actor;
  if (!actor) return "—";
  switch (actor.credentialKind) {
    case "api_key":
      return `${actor.userId} (API key ${actor.credentialId})`;
    case "login":
      return `${actor.userId} (signed in)`;
    case "password":
      return `${actor.userId} (password)`;
    case "system":
      return "the server";
    case "anonymous":
      return "anonymous";
    default:
      return actor.userId || actor.credentialKind || "—";
  }
}

/**
 * The History section of a user's page: the events about the user
 * (Events.List), newest first, what changed and who changed it, a page at
 * a time, with a button that adds the next (older) page.
 */
export function userHistory(userId: string): { section: HTMLElement; reload(): Promise<void> } {
  const messages = messageArea();
  const summary = h("p", { id: "history-summary", class: "summary", "aria-live": "polite" });
  const rows = h("tbody");
  const table = h(
    "table",
    { class: "history", "aria-describedby": "history-summary" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "When"),
        h("th", { scope: "col" }, "Event"),
        h("th", { scope: "col" }, "By"),
        h("th", { scope: "col" }, "Changed"),
      ),
    ),
    rows,
  );
  const more = h("button", { type: "button", hidden: true }, "Show older events");
  const pager = h("div", { class: "pager" }, more);
  const section = h(
    "section",
    { class: "history-section", "aria-labelledby": "history-heading" },
    h("h2", { id: "history-heading" }, "History"),
    messages,
    summary,
    h("div", { class: "table-wrap" }, table),
    pager,
  );
  let nextToken = "";
  let shown = 0;
  // A reload started while a page is loading wins over it.
  let generation = 0;

  const row = (event: Event) =>
    h(
      "tr",
      { "data-event-id": event.id },
      h("td", {}, timeElement(event.time)),
      h("th", { scope: "row" }, event.name, event.recovered ? " (recovered)" : ""),
      h("td", {}, actorLabel(event)),
      h("td", {}, event.paths.length > 0 ? event.paths.join(", ") : "—"),
    );

  const fetchPage = async (pageToken: string) => {
    const mine = ++generation;
    table.setAttribute("aria-busy", "true");
    try {
      const page = await events.list({ filter: { userId }, limit: pageSize, pageToken });
      if (mine !== generation) return;
      if (!pageToken) {
        rows.replaceChildren();
        shown = 0;
      }
      rows.append(...page.events.map(row));
      shown += page.events.length;
      nextToken = page.nextPageToken;
      more.hidden = !nextToken;
      summary.textContent =
        shown === 0
          ? "No events recorded about this user."
          : `The ${shown} most recent events, newest first${nextToken ? "; older ones follow" : ""}.`;
    } catch (error) {
      if (mine === generation) showError(messages, error);
    } finally {
      if (mine === generation) table.removeAttribute("aria-busy");
    }
  };

  more.addEventListener("click", () => void busy(pager, () => fetchPage(nextToken)));
  const reload = () => fetchPage("");
  void reload();
  return { section, reload };
}
