import type { DescField, DescMessage, DescMethod, FileRegistry, Message } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import type { SingleBar } from "cli-progress";
import { messageJson, messagesOf, type Printer, type ShownPaths } from "./output.js";
import type { Connection } from "./transport.js";

/** The paging fields of a request (AIP-158, plus ttn-lw-cli's page numbers). */
export interface PagingFields {
  limit: DescField;
  page?: DescField;
  pageToken?: DescField;
}

/** The paging fields of `request`, if it is paginated: a `limit` and a `page` or `page_token`. */
export function paging(request: DescMessage): PagingFields | undefined {
  const field = (name: string) => request.fields.find((f) => f.name === name);
  const limit = field("limit");
  const page = field("page");
  const pageToken = field("page_token");
  if (!limit || (!page && !pageToken)) return undefined;
  return { limit, page, pageToken };
}

export interface PageThroughOptions {
  connection: Connection;
  method: DescMethod;
  request: Message;
  /** Follow every page instead of printing one and a hint. */
  allPages: boolean;
  /** The response's list of results (`users`). */
  result: DescField;
  registry: FileRegistry;
  printer: Printer;
  shown: ShownPaths;
}

/**
 * Print one page and, when there are more, a hint on stderr saying how to
 * get the next; or, with `allPages`, every page from the one asked for on,
 * printed as it arrives (with a progress bar when stderr is a terminal and
 * stdout is not).
 */
export async function pageThrough(options: PageThroughOptions): Promise<void> {
  const { connection, method, result, registry } = options;
  const fields = paging(method.input) as PagingFields;
  const request = reflect(method.input, options.request);
  const output = method.output;
  const nextTokenField = output.fields.find((f) => f.name === "next_page_token");
  const totalField = output.fields.find((f) => f.name === "total_size");
  const resultType = result.message as DescMessage;
  const noun = result.name.replaceAll("_", " ");

  const writer = options.printer.list();
  let bar: SingleBar | undefined;
  const startPage = fields.page ? Number(request.get(fields.page)) || 1 : 1;
  const usedToken = fields.pageToken !== undefined && request.get(fields.pageToken) !== "";
  let page = startPage;
  let fetched = 0;
  let pageSize = Number(request.get(fields.limit)) || 0;
  // Nothing is printed when the first call fails; after that, the list is closed.
  let started = false;
  try {
    for (;;) {
      const { message, header } = await connection.unary(method, options.request);
      const response = reflect(output, message);
      const items = messagesOf(response, result);
      started = true;
      writer.add(items.map((m) => messageJson(resultType, m, registry, options.shown)));
      fetched += items.length;
      pageSize ||= items.length;

      const totalValue = totalField ? response.get(totalField) : header.get("x-total-count");
      const total = totalValue === undefined || totalValue === null ? undefined : Number(totalValue);
      const nextToken = nextTokenField ? String(response.get(nextTokenField)) : "";
      const more = nextTokenField
        ? nextToken !== ""
        : total !== undefined && items.length > 0 && (page - 1) * pageSize + items.length < total;

      if (!options.allPages) {
        if (more)
          process.stderr.write(hint({ noun, fetched, total, page, usedToken, nextToken, hasPages: !!fields.page }));
        return;
      }
      // A bar redrawn between lines of output on the same terminal would garble both.
      if (!bar && process.stderr.isTTY && !process.stdout.isTTY && total !== undefined) {
        const { default: cliProgress } = await import("cli-progress");
        bar = new cliProgress.SingleBar(
          { stream: process.stderr, format: `{bar} {value}/{total} ${noun}`, hideCursor: true, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        );
        // Starting later than the first page counts what lies before it as done.
        const skipped = usedToken ? 0 : (startPage - 1) * pageSize;
        bar.start(Math.max(total - skipped, fetched), 0);
      }
      bar?.update(fetched);
      if (!more || items.length === 0) return;
      if (nextToken && fields.pageToken) {
        request.set(fields.pageToken, nextToken);
        if (fields.page) request.set(fields.page, 0);
      } else if (fields.page) {
        request.set(fields.page, ++page);
      }
    }
  } finally {
    bar?.stop();
    if (started) writer.end();
  }
}

function hint(h: {
  noun: string;
  fetched: number;
  total: number | undefined;
  page: number;
  usedToken: boolean;
  nextToken: string;
  hasPages: boolean;
}): string {
  const shown = h.total === undefined ? `${h.fetched} ${h.noun} shown` : `${h.fetched} of ${h.total} ${h.noun} shown`;
  const ways: string[] = [];
  if (h.hasPages && !h.usedToken) ways.push(`--page ${h.page + 1}`);
  if (h.nextToken) ways.push(`--page-token ${h.nextToken}`);
  return `${shown}; for the next page use ${ways.join(" or ")} (--all-pages for every page)\n`;
}
