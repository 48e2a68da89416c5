/**
 * Internal to server storage: what a session state writes to its stored record, as fields (see
 * `fields.ts`): every field, for a new record, or the fields one request changed, as a patch.
 *
 * @module
 */
import type { ClientInfo } from './client.ts'
import {
  ADDRESS,
  DATA,
  type DecodedFields,
  encodeFields,
  FLASH,
  MAX_AGE,
  PERSISTENT,
  USER_AGENT,
} from './fields.ts'
import type { SessionState } from './session.ts'
import { flashToKeep } from './storage.ts'
import type { Serializer, SessionPatch } from './types.ts'

/** Every field of the state, for a new record. */
export function allFields(state: SessionState, serializer: Serializer): Record<string, string> {
  const view: DecodedFields = {
    data: state.data,
    flash: flashToKeep(state),
    maxAge: state.maxAge,
    renewedAt: state.renewedAt !== state.createdAt ? state.renewedAt : undefined,
    persistent: state.persistent,
    client: state.client,
  }
  return encodeFields(view, serializer)
}

/**
 * Adds to `set` the client fields to write (option `clientInfo`): those that differ from `stored`,
 * what the record keeps.
 */
export function clientFields(
  client: ClientInfo | undefined,
  stored: ClientInfo | undefined,
  set: Record<string, string>,
): Record<string, string> {
  if (client === undefined) return set
  if (client.userAgent !== undefined && client.userAgent !== stored?.userAgent) {
    set[USER_AGENT] = client.userAgent
  }
  if (client.address !== undefined && client.address !== stored?.address) {
    set[ADDRESS] = client.address
  }
  return set
}

/** The fields this request changed, as a patch. */
export function patchOf(
  state: SessionState,
  now: number,
  timesOnly: boolean,
  serializer: Serializer,
): SessionPatch {
  const times = {
    lastActiveAt: now,
    expiresAt: state.deadline(state, now),
  }
  const c = state.changes
  const set = clientFields(state.client, state.storedClient, {})
  if (timesOnly || c === null) return { set, unset: [], ...times }
  const unset: string[] = []
  let clearPrefix: string | undefined
  if (c.all) {
    clearPrefix = DATA
    for (const key in state.data) set[DATA + key] = serializer.stringify(state.data[key])
  } else {
    for (const key of c.keys) {
      if (key in state.data) set[DATA + key] = serializer.stringify(state.data[key])
      else unset.push(DATA + key)
    }
  }
  for (const key of c.flash) {
    if (state.flashOut !== null && key in state.flashOut) {
      set[FLASH + key] = serializer.stringify(state.flashOut[key])
    } else unset.push(FLASH + key)
  }
  if (c.maxAge) {
    if (state.maxAge === undefined) unset.push(MAX_AGE)
    else set[MAX_AGE] = String(state.maxAge)
  }
  if (c.persistent && state.persistent !== undefined) {
    set[PERSISTENT] = state.persistent ? '1' : '0'
  }
  const patch: { -readonly [K in keyof SessionPatch]: SessionPatch[K] } = { set, unset, ...times }
  if (clearPrefix !== undefined) patch.clearPrefix = clearPrefix
  if (c.subject) patch.subject = state.subject ?? null
  return patch
}
