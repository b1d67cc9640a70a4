// Wire shapes of the Parley contract (section 3), generated from the server's JSON Schemas
// (src/api/contract.schema.json -> contract.gen.ts by scripts/gen-types.mjs): never declared by hand here.
// Request payloads, acks and event payloads are generated there too (used by ./http and ../socket/events).
import type { Message } from './contract.gen';

export type {
  Attachment,
  Connection,
  ConversationSummary,
  Member,
  Message,
  Quote,
  Reaction,
  SearchResult,
  SystemChange,
  User,
} from './contract.gen';

export type MessageStatus = Message['status'];
