/** Tests read arbitrary JSON documents and assert on their fields. */
// biome-ignore lint/suspicious/noExplicitAny: assertions walk untyped response bodies
export type Json = any;

export async function json(res: Response | Promise<Response>): Promise<Json> {
  return (await res).json();
}
