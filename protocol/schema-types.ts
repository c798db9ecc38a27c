/**
 * The TypeScript type of what `validateObject` (schema.ts) returns for a
 * schema, derived from the schema object itself, so that an operation's
 * typed arguments and the checks made on the wire cannot drift apart: a
 * field added, dropped, made optional or given another type in a schema
 * changes the arguments' type, and every operation reading it is checked
 * again by the compiler. Types only: nothing here exists at run time.
 *
 * @example
 *   const getSchema = { fields: { name: { type: 'string', optional: true, maxLength: 200 } } } as const satisfies Schema;
 *   type GetArgs = ArgsFromSchema<typeof getSchema>; // { readonly name?: string }
 */
import type { FieldSpec, Schema } from './schema';

/** What one validated field holds: base64 fields arrive as Buffers (which the caller wipes). */
export type FieldValue<F extends FieldSpec> = F extends { readonly type: 'string' }
  ? string
  : F extends { readonly type: 'base64' }
    ? Buffer
    : F extends { readonly type: 'integer' }
      ? number
      : F extends { readonly type: 'boolean' }
        ? boolean
        : F extends { readonly type: 'string[]' }
          ? readonly string[]
          : F extends { readonly type: 'stringMap' }
            ? Readonly<Record<string, string>>
            : F extends { readonly type: 'enum'; readonly values: readonly (infer V)[] }
              ? V
              : // Batch items are typed by the operation table (op-schemas.ts), not by a generic field.
                F extends { readonly type: 'items' }
                ? never
                : never;

type Fields = Readonly<Record<string, FieldSpec>>;
type RequiredNames<T extends Fields> = { [K in keyof T]: T[K] extends { readonly optional: true } ? never : K }[keyof T];
type OptionalNames<T extends Fields> = Exclude<keyof T, RequiredNames<T>>;

/** Flattens an intersection so editors and errors show one object type. */
type Flatten<T> = { [K in keyof T]: T[K] } & {};

/** Required fields as required properties, optional fields (`optional: true`) as optional ones. */
export type ArgsFromFields<T extends Fields> = Flatten<
  { readonly [K in RequiredNames<T>]: FieldValue<T[K]> } & { readonly [K in OptionalNames<T>]?: FieldValue<T[K]> }
>;

type Absent<Names extends PropertyKey> = { readonly [P in Names]?: undefined };
type Present<T, Name extends keyof T> = { readonly [P in Name]-?: Exclude<T[P], undefined> };

/**
 * At least one of the names in `Group` is present, typed as "the first one
 * present is the i-th": one member per name, the earlier ones absent. Each
 * member is told apart by a plain `!== undefined` check, e.g. for a key
 * reference `{name: string; instance?: string} | {name?: undefined; instance: string}`.
 */
type AtLeastOne<T, Group, Before extends PropertyKey = never> = T extends unknown
  ? Group extends readonly [infer Name extends keyof T, ...infer Rest]
    ? Flatten<Omit<T, Before | Name> & Absent<Before> & Present<T, Name>> | AtLeastOne<T, Rest, Before | Name>
    : never
  : never;

/** Exactly one of the names in `Group` is present: one member per name, all the others absent. */
type ExactlyOne<T, Group extends readonly PropertyKey[]> = T extends unknown
  ? { [I in keyof Group]: Group[I] extends keyof T ? Flatten<Omit<T, Group[number]> & Absent<Exclude<Group[number], Group[I]>> & Present<T, Group[I]>> : never }[number]
  : never;

type WithAtLeastOne<T, Groups> = Groups extends readonly [infer First, ...infer Rest] ? WithAtLeastOne<AtLeastOne<T, First>, Rest> : T;
type WithExactlyOne<T, Groups> = Groups extends readonly [infer First extends readonly PropertyKey[], ...infer Rest] ? WithExactlyOne<ExactlyOne<T, First>, Rest> : T;

/** The arguments `validateObject(schema, …)` returns, including its at-least-one and exactly-one groups. */
export type ArgsFromSchema<S extends Schema> = WithExactlyOne<
  WithAtLeastOne<ArgsFromFields<S['fields']>, S extends { readonly atLeastOneOf: infer A } ? A : []>,
  S extends { readonly exactlyOneOf: infer E } ? E : []
>;
