import { h } from "./dom.js";
import { showError } from "./messages.js";

/** One page of a listed resource, as the view fetched it. */
export interface Page<T> {
  rows: T[];
  total: number;
}

/**
 * A table of a paged list (offset pages of `pageSize`): its summary line,
 * the table, and Previous/Next with the position. `load(page)` fetches and
 * renders; a slower answer to an earlier load is dropped, and errors show
 * in `messages`.
 */
export function pagedTable<T>(options: {
  /** Id of the summary line, which describes the table. */
  summaryId: string;
  pageSize: number;
  fetch: (page: number) => Promise<Page<T>>;
  /** The summary line of a page (e.g. "3 API keys."). */
  summarize: (page: Page<T>) => string;
  render: (table: HTMLTableElement, rows: T[]) => void;
  messages: HTMLElement;
}) {
  const summary = h("p", { id: options.summaryId, class: "summary", "aria-live": "polite" });
  const table = h("table", { "aria-describedby": options.summaryId });
  const previous = h("button", { type: "button" }, "Previous page");
  const next = h("button", { type: "button" }, "Next page");
  const position = h("span", {});
  let page = 1;
  let generation = 0;

  const load = async (wanted = page) => {
    const mine = ++generation;
    table.setAttribute("aria-busy", "true");
    try {
      const got = await options.fetch(wanted);
      if (mine !== generation) return;
      page = wanted;
      const pages = Math.max(1, Math.ceil(got.total / options.pageSize));
      summary.textContent = options.summarize(got);
      position.textContent = `Page ${page} of ${pages}`;
      previous.disabled = page <= 1;
      next.disabled = page >= pages;
      options.render(table, got.rows);
    } catch (error) {
      if (mine === generation) showError(options.messages, error);
    } finally {
      if (mine === generation) table.removeAttribute("aria-busy");
    }
  };
  previous.addEventListener("click", () => void load(page - 1));
  next.addEventListener("click", () => void load(page + 1));
  return { summary, table, previous, next, position, load };
}

/** "No API keys." or "3 API keys.", from the singular and plural. */
export function countSummary(total: number, one: string, many: string, none: string): string {
  return total === 0 ? none : `${total} ${total === 1 ? one : many}.`;
}
