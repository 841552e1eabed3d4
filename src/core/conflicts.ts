/** The words of a ConflictError, the same on every backend. */
export type ConflictKind = 'expectLastIds' | 'otherAgent' | 'role' | 'changed';

/** `id` is named where the backend knows it (SQL refuses a batch without saying which row). */
export function conflictMessage(kind: ConflictKind, id?: string): string {
  const which = id === undefined ? 'a message id of this write' : `message id '${id}'`;
  switch (kind) {
    case 'expectLastIds':
      return "expectLastIds: the conversation's newest messages are no longer these ids";
    case 'otherAgent':
      return `${which} is already stored in this session by another agent`;
    case 'role':
      return `${which} is already stored with another role`;
    case 'changed':
      return `${which} is already stored with other content or metadata (use upsertMessages or updateMessage to change it)`;
  }
}
