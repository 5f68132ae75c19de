import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

type JsonSchema = Record<string, unknown>;

/**
 * Responses are written by a serializer compiled once per route and status from the route's zod schema
 * (zod → JSON Schema → fast-json-stringify), instead of encoding every field through zod per answer.
 * The zod schemas stay the single truth: the OpenAPI document is generated from the same schemas.
 * Like zod's output, only declared properties are written, so nothing undeclared (a password hash, a
 * token) can leave through an answer. A schema that JSON Schema cannot express (a transform) keeps
 * zod's own serializer.
 */
export const serializerCompiler: FastifySerializerCompiler<unknown> = (route) => {
  const schema = route.schema;
  if (!(schema instanceof z.ZodType)) return zodSerializerCompiler(route as Parameters<typeof zodSerializerCompiler>[0]);
  let jsonSchema: JsonSchema;
  try {
    jsonSchema = z.toJSONSchema(schema, { io: 'output', target: 'draft-7', unrepresentable: 'throw' }) as JsonSchema;
  } catch {
    return zodSerializerCompiler(route as Parameters<typeof zodSerializerCompiler>[0]);
  }
  delete jsonSchema.$schema;
  return fastJson(simplifyNullable(jsonSchema) as Parameters<typeof fastJson>[0]);
};

/**
 * zod writes `x.nullable()` as `anyOf: [x, { type: "null" }]`, which fast-json-stringify resolves per
 * value by validating each branch; `type: [x.type, "null"]` says the same and is written directly.
 */
export function simplifyNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(simplifyNullable);
  if (!node || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) out[key] = simplifyNullable(value);
  const anyOf = out.anyOf as JsonSchema[] | undefined;
  if (Array.isArray(anyOf) && anyOf.length === 2) {
    const nullIndex = anyOf.findIndex((b) => b.type === 'null' && Object.keys(b).length === 1);
    const other = anyOf[1 - nullIndex];
    if (nullIndex >= 0 && typeof other.type === 'string' && other.type !== 'null' && !('anyOf' in other) && !('const' in other)) {
      const { anyOf: _drop, ...rest } = out;
      const merged: JsonSchema = { ...rest, ...other, type: [other.type, 'null'] };
      if (Array.isArray(other.enum)) merged.enum = [...other.enum, null];
      return merged;
    }
  }
  return out;
}
