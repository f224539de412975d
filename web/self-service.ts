import { h, replaceChildren } from "./dom.js";
import { reportOf } from "./error-report.js";
import { forgotPasswordPage } from "./self-service/forgot-password-page.js";
import { page } from "./self-service/page.js";
import { registerPage } from "./self-service/register-page.js";
import { resetPasswordPage } from "./self-service/reset-password-page.js";
import { signInPage } from "./self-service/sign-in-page.js";
import { verifyEmailPage } from "./self-service/verify-email-page.js";

/**
 * The public pages that emails link to, one per path under the public URL
 * (server/self-service/links.ts lists the same paths): the server answers
 * each with this script's page.
 */
const pages: Record<string, () => HTMLElement | Promise<HTMLElement>> = {
  "sign-in": signInPage,
  register: registerPage,
  "forgot-password": forgotPasswordPage,
  "reset-password": resetPasswordPage,
  "verify-email": verifyEmailPage,
};

const root = document.getElementById("app") as HTMLElement;
const name = location.pathname.split("/").filter(Boolean).at(-1) ?? "";
const make = pages[name] ?? signInPage;
try {
  replaceChildren(root, await make());
} catch (error) {
  const report = reportOf(error);
  replaceChildren(
    root,
    page(
      "Something went wrong",
      h("p", { class: "error", role: "alert" }, `The server could not be reached or refused: ${report.message}`),
      h("p", {}, "Reload the page to try again."),
    ),
  );
}
root.querySelector<HTMLElement>("h1")?.focus();
