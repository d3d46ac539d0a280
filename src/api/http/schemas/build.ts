import { type Static, type TSchema, Type } from "@sinclair/typebox";

/** Shorthands the response schemas are written with. */
export const Str = (o: { maxLength?: number; pattern?: string } = {}) => Type.String(o);
export const Int = () => Type.Integer();
export const Num = () => Type.Number();
export const Bool = () => Type.Boolean();
export const Nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()]);
export const AnyObject = () => Type.Unsafe<object>({ type: "object" });
export const Opt = Type.Optional;
/** A reference to a component of the OpenAPI document, typed as the schema it names. */
export const Ref = <T extends TSchema>(name: string, _schema: T) =>
  Type.Unsafe<Static<T>>({ $ref: `#/components/schemas/${name}` });
/** A page of a list endpoint (`?limit`, `?cursor`): `next_cursor` is null on the last page. */
export const List = <T extends TSchema>(name: string, items: T) =>
  Type.Object({ items: Type.Array(Ref(name, items)), next_cursor: Nullable(Str()) });
