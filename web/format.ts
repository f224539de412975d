import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { InvitationStatus } from "../gen/roster/v1/invitation_registry_pb.js";
import { State } from "../gen/roster/v1/user_pb.js";

/** The user states an admin can choose, in life-cycle order. */
export const states: readonly (readonly [State, string])[] = [
  [State.REQUESTED, "Requested"],
  [State.APPROVED, "Approved"],
  [State.REJECTED, "Rejected"],
  [State.FLAGGED, "Flagged"],
  [State.SUSPENDED, "Suspended"],
];

export function stateLabel(state: State): string {
  return states.find(([s]) => s === state)?.[1] ?? "Unspecified";
}

/** The invitation statuses, as filters and labels. */
export const invitationStatuses: readonly (readonly [InvitationStatus, string])[] = [
  [InvitationStatus.PENDING, "Pending"],
  [InvitationStatus.ACCEPTED, "Accepted"],
  [InvitationStatus.EXPIRED, "Expired"],
  [InvitationStatus.REVOKED, "Revoked"],
];

export function invitationStatusLabel(status: InvitationStatus): string {
  return invitationStatuses.find(([s]) => s === status)?.[1] ?? "Unspecified";
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A timestamp in the reader's locale and time zone; "—" when unset. */
export function formatTime(timestamp: Timestamp | undefined): string {
  return timestamp ? dateTime.format(timestampDate(timestamp)) : "—";
}

/** The same timestamp as ISO 8601, for `<time datetime>`. */
export function isoTime(timestamp: Timestamp | undefined): string | undefined {
  return timestamp ? timestampDate(timestamp).toISOString() : undefined;
}

/** `<time>` for a timestamp, machine-readable and shown in the reader's locale. */
export function timeElement(timestamp: Timestamp | undefined): HTMLElement {
  const element = document.createElement("time");
  const iso = isoTime(timestamp);
  if (iso) element.dateTime = iso;
  element.textContent = formatTime(timestamp);
  return element;
}

/** Local date and time from `<input type="datetime-local">` ("2027-03-01T12:00"), or undefined when empty. */
export function localDateTime(value: string): Date | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** A timestamp as `<input type="datetime-local">` shows it, in the reader's time zone ("" when unset). */
export function localInputValue(timestamp: Timestamp | undefined): string {
  if (!timestamp) return "";
  const d = timestampDate(timestamp);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
