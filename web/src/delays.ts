// Delays of the page that its tests need to know (this module has no DOM code, so the
// Node side can import it).

/** How long a leave waits before it is announced: a reload comes back well within it. */
export const LEAVE_NOTICE_DELAY_MS = 4000;
