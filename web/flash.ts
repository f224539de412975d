let pending: string | undefined;

/** A notice for the next page shown (after a rename, the renamed user's page says so). */
export function flashNext(notice: string): void {
  pending = notice;
}

/** The notice left for this page, once. */
export function takeFlash(): string | undefined {
  const notice = pending;
  pending = undefined;
  return notice;
}
