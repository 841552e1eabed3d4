/** The words of a ConflictError, the same on every backend. */
export type ConflictKind = 'expectLastIds' | 'otherAgent' | 'role' | 'changed' | 'idTaken';

export function conflictMessage(kind: ConflictKind, id?: string): string {
  switch (kind) {
    case 'expectLastIds':
      return "expectLastIds: the conversation's newest messages are no longer these ids";
    case 'otherAgent':
      return `message id '${id}' is already stored in this session by another agent`;
    case 'role':
      return `message id '${id}' is already stored with another role`;
    case 'changed':
      return `message id '${id}' is already stored with other content or metadata (use upsertMessages or updateMessage to change it)`;
    case 'idTaken':
      return 'a message id of this write is already stored in the session with another role, content or metadata, or by another agent';
  }
}
