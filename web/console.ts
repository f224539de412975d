import { Right } from "../gen/roster/v1/rights_pb.js";
import { onSessionEnded } from "./clients.js";
import { h, replaceChildren } from "./dom.js";
import { reportOf } from "./error-report.js";
import { takeFlash } from "./flash.js";
import { header } from "./header.js";
import { href, parseRoute, type Route } from "./routes.js";
import {
  endSession,
  forgetSession,
  holds,
  passwordChangeOnly,
  type Session,
  savedToken,
  startSession,
} from "./session.js";
import { apiKeysView } from "./views/api-keys-view.js";
import { invitationsView } from "./views/invitations-view.js";
import { newUserView } from "./views/new-user-view.js";
import { passwordView } from "./views/password-view.js";
import { settingsView } from "./views/settings-view.js";
import { signInView } from "./views/sign-in-view.js";
import { tokenRequestsView } from "./views/token-requests-view.js";
import { userView } from "./views/user-view.js";
import { usersView } from "./views/users-view.js";

const root = document.getElementById("app") as HTMLElement;
let session: Session | undefined;

/** Put `view` on the page (under the header when signed in) and move the focus to its heading. */
function show(view: HTMLElement, route: Route, notice?: string): void {
  replaceChildren(
    root,
    session ? header(session, route, () => void signOut()) : null,
    notice ? h("p", { class: "flash", role: "status" }, notice) : null,
    view,
  );
  view.querySelector<HTMLElement>("h1")?.focus();
}

function render(notice = takeFlash()): void {
  const route = parseRoute(location.hash);
  if (!session) {
    document.title = "Sign in — Roster";
    show(
      signInView({
        notice,
        onSignedIn: (signedIn) => {
          session = signedIn;
          render();
        },
      }),
      route,
    );
    return;
  }
  const current = session;
  if (passwordChangeOnly(current) || route.page === "password") {
    document.title = "Change password — Roster";
    show(
      passwordView({
        session: current,
        forced: passwordChangeOnly(current),
        onChanged: (next, changed) => {
          session = next;
          if (route.page === "password") history.pushState(null, "", href({ page: "home" }));
          render(changed);
        },
      }),
      { page: "password" },
      notice,
    );
    return;
  }
  switch (route.page) {
    case "home": {
      const start: Route = holds(current, Right.ADMIN_USERS_READ)
        ? { page: "users" }
        : { page: "user", userId: current.userId };
      history.replaceState(null, "", href(start));
      render(notice);
      return;
    }
    case "users":
      document.title = "Users — Roster";
      show(usersView({ session: current }), route, notice);
      return;
    case "user":
      document.title = `${route.userId} — Roster`;
      show(userView({ session: current, userId: route.userId }), route, notice);
      return;
    case "new-user":
      document.title = "New user — Roster";
      show(newUserView({ session: current }), route, notice);
      return;
    case "api-keys":
      document.title = `API keys of ${route.userId} — Roster`;
      show(apiKeysView({ session: current, userId: route.userId }), route, notice);
      return;
    case "settings":
      document.title = `Settings of ${route.userId} — Roster`;
      show(settingsView({ session: current, userId: route.userId }), route, notice);
      return;
    case "invitations":
      document.title = "Invitations — Roster";
      show(invitationsView({ session: current }), route, notice);
      return;
    case "token-requests":
      document.title = "Token requests — Roster";
      show(tokenRequestsView({ session: current }), route, notice);
      return;
  }
}

async function signOut(): Promise<void> {
  const ending = session;
  session = undefined;
  let notice = "You are signed out.";
  try {
    await endSession(ending);
  } catch (error) {
    const report = reportOf(error);
    notice = `Signed out here, but the server did not revoke the login token: ${report.message}`;
  }
  history.replaceState(null, "", href({ page: "home" }));
  render(notice);
}

onSessionEnded(() => {
  session = undefined;
  forgetSession();
  render("Your session has ended (the token expired, was revoked, or the account was deactivated). Sign in again.");
});

window.addEventListener("hashchange", () => render());

const token = savedToken();
if (token) {
  try {
    session = await startSession(token);
  } catch {
    forgetSession();
  }
}
render();
