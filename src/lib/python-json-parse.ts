/**
 * Reading JSON that Python wrote: as `JSON.parse`, plus what Python's `json.loads` accepts and
 * `JSON.parse` does not (`NaN`, `Infinity`, `-Infinity`), and with the order of integer-like keys
 * kept (under {@link KEY_ORDER}) so that writing the data back gives Python's bytes. `__proto__`
 * keys are dropped at any depth, as the default serializer does. Internal.
 *
 * @module
 */
import { jsonSerializer } from '../core/serializer.ts'
import { readJson } from './json-reader.ts'

/** Text that needs the slow parser: an integer-like key, or a token `JSON.parse` refuses. */
const NEEDS_PARSER = /"(?:0|[1-9]\d*)"\s*:|NaN|Infinity/

/**
 * Parses JSON that Python's `json.dumps` (or any JSON writer) produced; see the module.
 *
 * @throws {SyntaxError} for text that is not JSON (nor Python's `NaN`/`Infinity` extension).
 */
export function pythonJsonParse(text: string): unknown {
  return NEEDS_PARSER.test(text) ? readJson(text, true) : jsonSerializer.parse(text)
}
