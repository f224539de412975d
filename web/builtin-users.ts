import { h } from "./dom.js";

/**
 * The id of Roster's built-in user, the actor of changes the server makes
 * on its own. The server refuses to change, delete, merge or rename it, or
 * to give it a token (reason SYSTEM_USER), and lists it only when asked.
 */
export const systemUserId = "system";

export function isBuiltIn(userId: string): boolean {
  return userId === systemUserId;
}

/** A small "Built-in" tag, read out as part of the user's name. */
export function builtInTag(): HTMLElement {
  return h("span", { class: "tag" }, "Built-in");
}

/** What the page of the built-in user says instead of its forms and actions. */
export function builtInNotice(): HTMLElement {
  return h(
    "p",
    { class: "not-allowed" },
    "This is Roster's built-in system user: the actor of changes the server makes on its own. " +
      "It never signs in, has no API keys or settings, and cannot be changed, deleted, merged or renamed.",
  );
}
