import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Invitation, InvitationSchema, InvitationStatus } from "../../gen/roster/v1/invitation_registry_pb.js";
import { State } from "../../gen/roster/v1/user_pb.js";
import { effectiveStatus, type InvitationDocument } from "./invitations-store.js";
import { stateFromName } from "./user-documents.js";

export function invitationFromDocument(doc: InvitationDocument, now = new Date()): Invitation {
  return create(InvitationSchema, {
    email: doc.email,
    status: InvitationStatus[effectiveStatus(doc, now)],
    expiresAt: timestampFromDate(doc.expires_at),
    createdAt: timestampFromDate(doc.created_at),
    createdBy: doc.created_by,
    sentAt: timestampFromDate(doc.sent_at),
    acceptedAt: doc.accepted_at ? timestampFromDate(doc.accepted_at) : undefined,
    acceptedBy: doc.accepted_by,
    state: doc.state ? stateFromName(doc.state) : State.UNSPECIFIED,
    admin: doc.admin,
    hasInitialPassword: doc.password_hash !== null,
  });
}
