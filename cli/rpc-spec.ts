import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { flagName } from "./field-flags.js";
import type { CredentialChoice, Settings } from "./settings.js";

/**
 * A command that calls one RPC, declared rather than written: everything
 * else (flags, help, request, output) follows from the method's
 * descriptors by the conventions of Google's AIPs:
 *
 * - a request field of message type is the resource: its fields become set
 *   flags of their types, and an `update_mask` next to it lists
 *   exactly the flags given;
 * - any other FieldMask (`field_mask`, `read_mask`) selects what a read
 *   returns: one boolean flag per field of the resource in the response,
 *   `--all`, `--field-mask`;
 * - `limit`/`page`/`page_token` in the request make the command paginated
 *   (hint on stderr, `--all-pages`);
 * - every other request field becomes a flag of its type;
 * - the response's resource (its only message field) is what is printed.
 */
export interface RpcCommandSpec {
  /** The command and its aliases: `"get"`, `["update", "set"]`. */
  command: string | readonly string[];
  /** The method, as `package.Service.Method`. */
  rpc: string;
  /**
   * Request field paths taken from positional arguments, in order
   * (`user.user_id`). A trailing `?` makes one optional (`user_id?`: the
   * field stays empty when it is not given). An argument takes its field's
   * type, as a flag would (a google.protobuf.Value is JSON, or plain text
   * for a string).
   */
  args?: readonly string[];
  /**
   * Optional arguments asked for on a terminal when they are not given,
   * with their prompt (`{ user_id_or_email: "User id or email" }`);
   * without a terminal they must be given.
   */
  ask?: Readonly<Record<string, string>>;
  /** When the optional arguments are all left out, call this method instead (`settings get <user-id>` lists). */
  without?: { rpc: string };
  /**
   * When the last argument is given more than once, call this method
   * instead, with the values in its repeated field `field` (Get → BatchGet).
   */
  many?: { rpc: string; field: string };
  /** Request fields that hold secrets: prompted without echo on a terminal, or read with `--<field>-stdin`. */
  secrets?: readonly SecretSpec[];
  /** Ask before calling, unless `--force`; the question, given the request (proto field names). */
  confirm?: (request: JsonObject) => string;
  /**
   * Repeated response fields that list what was asked for but not found:
   * reported on stderr with exit code 4, after the rest is printed.
   */
  missing?: readonly string[];
  /**
   * Response fields beside the resource that only requests asking for them
   * fill (Create's `api_key`): the resource is printed alone unless one is
   * set, then the whole response.
   */
  extras?: readonly string[];
  /** Help text instead of the method's comment. */
  describe?: string;
  /** A paragraph added to the method's comment in --help: what the command does besides the call. */
  extraHelp?: string;
  /**
   * Boolean flags that set a request field to one value, named after what
   * they mean (Conch's `--login-only` for `kind` LOGIN); the help of an
   * enum value's flag is the value's comment.
   */
  presets?: Readonly<Record<string, { field: string; value: string }>>;
  /**
   * Request fields this command always sends with these values (proto
   * JSON, by path: `{ send_email: true }`); they get no flags. A command
   * that is another's call with some choices made (`users invite` is a
   * Create that mails the user).
   */
  fixed?: Readonly<Record<string, JsonValue>>;
  /** More names for derived flags: `{ before: "issued-before" }`. */
  flagAliases?: Readonly<Record<string, string>>;
  /** Which credential the call carries: the usual one, none (logging in), or the stored login token (logging out). */
  credential?: CredentialChoice;
  /** Error codes (`UNAUTHENTICATED`) that end the command as a success: `after` runs without a response. */
  tolerate?: readonly string[];
  /** Runs after the call: may print something else than the response, and add notes for stderr. */
  after?: (outcome: CallOutcome) => AfterResult | Promise<AfterResult>;
  /**
   * The results are data to keep rather than to read (users export): they
   * are written as CSV, NDJSON or JSON (`--format`) to stdout or a file
   * (`--output`), with a progress bar on stderr. Without select flags
   * every field is asked for. `select` is the field of a result whose
   * fields the select flags and the read mask name (`user` of a UserRecord).
   */
  records?: { select?: string };
  /**
   * The request's repeated message field `field` is filled from a file of
   * records (`--file`, CSV or NDJSON, as `records` writes them) and sent in
   * batches (users import); each response's list is written as NDJSON
   * lines and its counts are summed on stderr. `rowNumber`: the request
   * field that numbers the batch's first row. `failures`: counts of the
   * summary that make the exit code (`{ invalid: 3 }`).
   */
  batches?: { field: string; rowNumber?: string; failures?: Readonly<Record<string, number>> };
  /**
   * A server stream that may never end (events stream): each message's
   * result is printed as one compact JSON object a line as it arrives,
   * whatever --output says, until the stream ends or the command is
   * interrupted.
   */
  lines?: boolean;
}

/** What `after` is told: the request and response as proto JSON, or the tolerated error. */
export interface CallOutcome {
  request: JsonObject;
  response?: JsonObject;
  error?: unknown;
  settings: Settings;
}

export interface AfterResult {
  /** Print this instead of the response; null: print nothing. */
  /** Print this instead of the response (a list prints as one, a table with a column per key); null: print nothing. */
  show?: JsonObject | JsonObject[] | null;
  /** Lines for stderr. */
  notes?: string[];
}

export interface SecretSpec {
  field: string;
  /** What to call it in the prompt: "Password". */
  label: string;
  /** Ask twice (a new secret). */
  confirm?: boolean;
  /** The request is valid without it; an empty answer leaves it unset. */
  optional?: boolean;
  /** Ask for it on a terminal (default); false: only `--<field>-stdin` gives it. */
  prompt?: boolean;
}

/** The request field path of a positional argument (`user_id?` → `user_id`). */
export function argPath(arg: string): string {
  return arg.replace(/\?$/, "");
}

export function isOptional(arg: string): boolean {
  return arg.endsWith("?");
}

/** The name of a positional argument: the last part of its path, with dashes (`a.b_c` → `b-c`). */
export function argName(arg: string): string {
  return flagName(argPath(arg).split(".").at(-1) as string);
}
