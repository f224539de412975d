import type { Duration } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { type InvitationRegistry, InvitationStatus } from "../../gen/roster/v1/invitation_registry_pb.js";
import { State } from "../../gen/roster/v1/user_pb.js";
import {
  errEmailTaken,
  errInvitationBusy,
  errInvitationNotFound,
  errInvitationPending,
  errInvitationState,
  errRegistrationClosed,
  invalidArgument,
} from "../../shared/errors.js";
import { requireCaller } from "../access/caller.js";
import type { PasswordHasher, PasswordPolicy } from "../access/passwords.js";
import { hashNewPassword, requireAcceptablePassword } from "../access/passwords.js";
import { maxTimeMS } from "../call-scope/deadline.js";
import type { EmailQueue } from "../email/email-queue.js";
import { offsetPage, sendTotalCount } from "../requests/pagination.js";
import { hashToken, newRecordId, newToken } from "../secrets/token-format.js";
import { invitationFromDocument } from "../store/invitation-documents.js";
import {
  effectiveStatus,
  type InvitationDocument,
  type InvitationStatusName,
  releasedKey,
} from "../store/invitations-store.js";
import type { Store } from "../store/store.js";
import { stateName } from "../store/user-documents.js";
import { emailProblem } from "../validation/user-validation.js";

export interface InvitationRegistryDeps {
  store: Store;
  mail: EmailQueue;
  hasher: PasswordHasher;
  passwordPolicy: PasswordPolicy;
  isCommonPassword: (password: string) => boolean;
  registration: "open" | "invitation" | "closed";
  invitationTtlMs: number;
  /** The address of the registration page for an invitation token (it goes in the email). */
  registerUrl: (token: string) => string;
  defaultDeadlineMs: number;
}

/** Longest validity an admin may give an invitation. */
const maxTtlMs = 365 * 86_400_000;

export function invitationRegistry(deps: InvitationRegistryDeps): ServiceImpl<typeof InvitationRegistry> {
  const { store } = deps;

  function normalisedEmail(email: string): string {
    const problem = emailProblem(email);
    if (problem) throw invalidArgument([{ field: "email", description: problem }]);
    return email.trim().toLowerCase();
  }

  function expiry(expiresIn: Duration | undefined, field: string): Date {
    if (!expiresIn) return new Date(Date.now() + deps.invitationTtlMs);
    const ms = Number(expiresIn.seconds) * 1000 + Math.floor(expiresIn.nanos / 1e6);
    if (ms <= 0 || ms > maxTtlMs)
      throw invalidArgument([{ field, description: "must be positive and at most a year" }]);
    return new Date(Date.now() + ms);
  }

  async function find(email: string): Promise<InvitationDocument> {
    const doc = await store.invitations.getByEmail(email);
    if (!doc) throw errInvitationNotFound({ email });
    return doc;
  }

  function mailInvitation(doc: InvitationDocument, token: string, sendEmail: boolean | undefined) {
    if (sendEmail === false) return Promise.resolve();
    return deps.mail.enqueue(doc.email, {
      kind: "invitation",
      token,
      expiresAt: doc.expires_at,
      registerUrl: deps.registerUrl(token),
      invitedBy: doc.created_by,
    });
  }

  const errors = (email: string) => ({
    missing: () => errInvitationNotFound({ email }),
    busy: () => errInvitationBusy({}),
  });

  return {
    async send(req, ctx) {
      const caller = requireCaller(ctx);
      if (deps.registration === "closed") throw errRegistrationClosed({});
      const email = normalisedEmail(req.email);
      if (req.state !== State.UNSPECIFIED && !(req.state in State)) {
        throw invalidArgument([{ field: "state", description: "must be a valid state" }]);
      }
      let passwordHash: string | null = null;
      if (req.initialPassword) {
        const password = requireAcceptablePassword(req.initialPassword, deps, { email }, "initial_password");
        passwordHash = await hashNewPassword(deps.hasher, password);
      }
      // Advisory: acceptance is guarded by the unique email index anyway.
      if (await store.users.getDocumentByEmail(email)) throw errEmailTaken({ email });
      const token = newToken("invitation");
      const now = new Date();
      const id = newRecordId("iv");
      const doc: InvitationDocument = {
        _id: id,
        email,
        pending_key: email,
        token_hash: hashToken(token),
        status: "PENDING",
        expires_at: expiry(req.expiresIn, "expires_in"),
        created_at: now,
        created_by: caller.userId,
        sent_at: now,
        accepted_at: null,
        accepted_by: "",
        state: req.state === State.UNSPECIFIED ? null : stateName(req.state),
        admin: req.admin,
        password_hash: passwordHash,
        revision: 1,
      };
      if (!(await store.invitations.insert(doc))) throw errInvitationPending({ email });
      await mailInvitation(doc, token, req.sendEmail);
      return { invitation: invitationFromDocument(doc), token };
    },

    async get(req) {
      return { invitation: invitationFromDocument(await find(normalisedEmail(req.email))) };
    },

    async list(req, ctx: HandlerContext) {
      const page = offsetPage(req);
      const status =
        req.status === InvitationStatus.UNSPECIFIED
          ? undefined
          : (InvitationStatus[req.status] as InvitationStatusName | undefined);
      const now = new Date();
      const { invitations, total } = await store.invitations.list({
        status,
        ...page,
        now,
        maxTimeMS: maxTimeMS(ctx, deps.defaultDeadlineMs),
      });
      sendTotalCount(ctx, total);
      return { invitations: invitations.map((d) => invitationFromDocument(d, now)), totalSize: BigInt(total) };
    },

    async delete(req) {
      const email = normalisedEmail(req.email);
      const doc = await find(email);
      await store.invitations.update(
        doc._id,
        (current) => {
          const status = effectiveStatus(current);
          if (status !== "PENDING") throw errInvitationState({ email, status });
          return { ...current, status: "REVOKED", pending_key: releasedKey(current) };
        },
        errors(email),
      );
      return {};
    },

    async resend(req) {
      const email = normalisedEmail(req.email);
      const doc = await find(email);
      const token = newToken("invitation");
      const now = new Date();
      const expiresAt = expiry(req.expiresIn, "expires_in");
      const updated = await store.invitations.update(
        doc._id,
        (current) => {
          const status = effectiveStatus(current);
          if (status !== "PENDING" && status !== "EXPIRED") throw errInvitationState({ email, status });
          return {
            ...current,
            status: "PENDING",
            pending_key: email,
            token_hash: hashToken(token),
            expires_at: expiresAt,
            sent_at: now,
          };
        },
        {
          ...errors(email),
          // Taking the address back fails if a newer invitation holds it.
          writeError: () => {
            throw errInvitationPending({ email });
          },
        },
      );
      await mailInvitation(updated, token, req.sendEmail);
      return { invitation: invitationFromDocument(updated), token };
    },
  };
}
