import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Right } from "../../gen/roster/v1/rights_pb.js";
import {
  type APIKey,
  APIKeySchema,
  type TokenRequest,
  TokenRequestSchema,
  TokenRequestStatus,
} from "../../gen/roster/v1/user_access_pb.js";
import { rightFromName } from "../rights/rights.js";
import type { TokenRequestDocument, TokenRequestStatusName } from "./token-requests-store.js";
import type { TokenDocument } from "./tokens-store.js";

function rights(names: readonly string[]): Right[] {
  return names.map(rightFromName).filter((r): r is Right => r !== undefined);
}

/** `userId`: the owner's current id, when known (the stored one may predate a rename). */
export function apiKeyFromDocument(doc: TokenDocument, userId = doc.user_id, now = new Date()): APIKey {
  return create(APIKeySchema, {
    id: doc.key_id,
    userId,
    name: doc.name,
    rights: rights(doc.rights),
    createdAt: timestampFromDate(doc.created_at),
    expiresAt: doc.expires_at ? timestampFromDate(doc.expires_at) : undefined,
    lastUsedAt: doc.last_used_at ? timestampFromDate(doc.last_used_at) : undefined,
    createdBy: doc.created_by,
    expired: !!doc.expires_at && doc.expires_at <= now,
  });
}

export function tokenRequestStatus(name: TokenRequestStatusName): TokenRequestStatus {
  return TokenRequestStatus[name];
}

export function tokenRequestFromDocument(doc: TokenRequestDocument): TokenRequest {
  return create(TokenRequestSchema, {
    id: doc._id,
    userId: doc.user_id,
    name: doc.name,
    rights: rights(doc.rights),
    reason: doc.reason,
    status: tokenRequestStatus(doc.status),
    createdAt: timestampFromDate(doc.created_at),
    decidedAt: doc.decided_at ? timestampFromDate(doc.decided_at) : undefined,
    decidedBy: doc.decided_by,
    decisionNote: doc.decision_note,
    expiresAt: doc.expires_at ? timestampFromDate(doc.expires_at) : undefined,
    apiKeyId: doc.api_key_id,
  });
}
