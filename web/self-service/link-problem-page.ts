import { LinkPurpose, LinkStatus } from "../../gen/roster/v1/self_service_pb.js";
import { h } from "../dom.js";
import { nextSteps, page } from "./page.js";

const headings: Record<number, string> = {
  [LinkStatus.EXPIRED]: "This link has expired",
  [LinkStatus.USED]: "This link was already used",
};

/**
 * The page for a link that no longer works: expired, used, or unknown,
 * with what to do next for each kind of link.
 */
export function linkProblemPage(purpose: LinkPurpose, status: LinkStatus): HTMLElement {
  const title = headings[status] ?? "This link is not valid";
  const why =
    status === LinkStatus.EXPIRED
      ? "Links in Roster's emails work for a limited time."
      : status === LinkStatus.USED
        ? "Each link works once."
        : "It may be mistyped or cut short by the email program, or replaced by a newer link.";
  const steps: [string, string][] = [["sign-in", "Sign in"]];
  if (purpose === LinkPurpose.PASSWORD_RESET) steps.unshift(["forgot-password", "Ask for a new password reset link"]);
  const advice =
    purpose === LinkPurpose.INVITATION
      ? status === LinkStatus.USED
        ? "The invitation was accepted: its account exists. Sign in with it."
        : "Ask the administrator who invited you to send the invitation again."
      : purpose === LinkPurpose.EMAIL_VALIDATION
        ? status === LinkStatus.USED
          ? "Your address is confirmed already if you opened this link before."
          : "Ask an administrator for a new confirmation link (roster users verify-email <user> --send)."
        : "If you still need to set a new password, ask for a new link.";
  return page(
    title,
    h("div", { class: "link-problem", role: "alert" }, h("p", {}, why), h("p", {}, advice)),
    nextSteps(...steps),
  );
}
