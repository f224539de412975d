import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { Right } from "../../gen/roster/v1/rights_pb.js";
import { errMissingRight, errUnauthenticated } from "../../shared/errors.js";
import { rightName } from "../rights/rights.js";
import type { UserRef } from "../store/user-documents.js";

/** Who is calling, resolved from the bearer token by the auth interceptor. */
export interface Caller {
  userId: string;
  userRef: UserRef;
  /** Whether the user is an approved admin right now. */
  admin: boolean;
  /** Effective rights: the token's, limited to what the user may hold. */
  rights: ReadonlySet<Right>;
  tokenId: string;
  tokenKind: "api_key" | "login";
}

/** The caller of the current RPC; undefined for anonymous calls. */
export const callerKey = createContextKey<Caller | undefined>(undefined, { description: "roster caller" });

/** The client's address, set per HTTP request (see app.ts). */
export const clientAddressKey = createContextKey<string>("", { description: "roster client address" });

/**
 * The existing account a sign-in named, set by Authenticate before it
 * answers; a failed sign-in is recorded only for an account that exists,
 * so guesses at unknown ids store nothing.
 */
export const signInAccountKey = createContextKey<string>("", { description: "roster sign-in account" });

export function callerOf(ctx: HandlerContext): Caller | undefined {
  return ctx.values.get(callerKey);
}

/** The caller, who must be authenticated. */
export function requireCaller(ctx: HandlerContext): Caller {
  const caller = callerOf(ctx);
  if (!caller) throw errUnauthenticated({});
  return caller;
}

/** Whether the caller holds `right`. */
export function holds(caller: Caller | undefined, right: Right): boolean {
  return caller?.rights.has(right) ?? false;
}

/** Fail with PERMISSION_DENIED (or UNAUTHENTICATED) unless the caller holds `right`. */
export function requireRight(caller: Caller | undefined, right: Right): Caller {
  if (!caller) throw errUnauthenticated({});
  if (!caller.rights.has(right)) throw errMissingRight({ right: `RIGHT_${rightName(right)}` });
  return caller;
}
