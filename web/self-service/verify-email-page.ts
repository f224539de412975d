import { timestampDate } from "@bufbuild/protobuf/wkt";
import { LinkPurpose, LinkStatus } from "../../gen/roster/v1/self_service_pb.js";
import { h, onSubmit } from "../dom.js";
import { fragmentToken, selfService } from "./clients.js";
import { reasonOf, showCallError } from "./errors.js";
import { linkProblemPage } from "./link-problem-page.js";
import { nextSteps, page } from "./page.js";

/**
 * Confirm an email address with the token of a validation link
 * (`#token=rst_ev_...`). The confirmation is a button, not the page load,
 * so that a mail scanner opening the link confirms nothing.
 */
export async function verifyEmailPage(): Promise<HTMLElement> {
  const token = fragmentToken("token");
  const link = await selfService.describeLink({ token });
  if (link.purpose !== LinkPurpose.EMAIL_VALIDATION || link.status !== LinkStatus.VALID) {
    return linkProblemPage(LinkPurpose.EMAIL_VALIDATION, link.status);
  }
  const messages = h("div", { class: "messages", "aria-live": "polite" });
  const form = h(
    "form",
    {},
    h("p", {}, `Confirm that ${link.email} is your address.`),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Confirm my address")),
  );
  const view = page("Confirm your email address", messages, form);
  onSubmit(form, async () => {
    try {
      const done = await selfService.validateEmail({ token });
      const at = done.validatedAt ? timestampDate(done.validatedAt).toLocaleString() : "";
      view.replaceWith(
        page(
          "Your email address is confirmed",
          h(
            "div",
            { class: "notice", role: "status" },
            h("p", {}, `${done.email} is confirmed for the account ${done.userId}${at ? ` (${at})` : ""}.`),
          ),
          nextSteps(["sign-in", "Sign in"]),
        ),
      );
      document.querySelector<HTMLElement>("h1")?.focus();
    } catch (error) {
      const reason = reasonOf(error);
      if (reason === "LINK_USED" || reason === "LINK_EXPIRED" || reason === "LINK_UNKNOWN") {
        const status =
          reason === "LINK_USED"
            ? LinkStatus.USED
            : reason === "LINK_EXPIRED"
              ? LinkStatus.EXPIRED
              : LinkStatus.UNKNOWN;
        view.replaceWith(linkProblemPage(LinkPurpose.EMAIL_VALIDATION, status));
        document.querySelector<HTMLElement>("h1")?.focus();
        return;
      }
      showCallError(messages, error, {});
    }
  });
  return view;
}
