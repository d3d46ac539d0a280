import { type Static, type TObject, Type } from "@sinclair/typebox";
import { type Command, Option } from "commander";

/**
 * One CLI command, declared once: its name, arguments, options (commander's own `Option`, so
 * choices, defaults and hidden aliases print as before), the TypeBox schema its options are checked
 * against, the help text after its options, and its action, which gets the options typed by that
 * schema. `runCommand` (cli/run.ts) stays the one output and exit-code path.
 */
export interface CliCommand<S extends TObject, A extends unknown[]> {
  name: string;
  description: string;
  /** `[spec, description]` per positional argument, e.g. `["<host>", "host name or id"]`. */
  arguments?: readonly (readonly [string, string])[];
  options?: readonly Option[];
  schema: S;
  /** Printed after the options (examples, exit codes). */
  help?: string;
  action: (args: A, opts: Static<S>, cmd: Command) => Promise<void>;
}

/** Declares a command; the generic parameters come from the schema and the action's arguments. */
export function defineCommand<S extends TObject, A extends unknown[] = []>(
  spec: CliCommand<S, A>,
): CliCommand<S, A> {
  return spec;
}

/** `--flag <value>` (or `--flag`) described; `.makeOptionMandatory()` etc. chain on it. */
export const option = (flags: string, description: string) => new Option(flags, description);

/** The same, required: commander refuses the command without it. */
export const requiredOption = (flags: string, description: string) =>
  new Option(flags, description).makeOptionMandatory();

/** Adds each command to `parent`, in order (the order `--help` lists them). */
export function addCommands(
  parent: Command,
  // biome-ignore lint/suspicious/noExplicitAny: a list of commands whose schemas differ
  commands: readonly CliCommand<any, any>[],
): void {
  for (const spec of commands) addCommand(parent, spec);
}

export function addCommand<S extends TObject, A extends unknown[]>(
  parent: Command,
  spec: CliCommand<S, A>,
): Command {
  const cmd = parent.command(spec.name);
  for (const [name, description] of spec.arguments ?? []) cmd.argument(name, description);
  for (const opt of spec.options ?? []) cmd.addOption(opt);
  cmd.description(spec.description);
  if (spec.help) cmd.addHelpText("after", spec.help);
  cmd.action(async (...params: unknown[]) => {
    const self = params[params.length - 1] as Command;
    const raw = params[params.length - 2];
    // ajv loads when a command runs, not when the CLI starts (`relay --help` compiles nothing).
    const { parseOptions } = await import("./options.js");
    const opts = parseOptions(spec.schema, raw, self);
    await spec.action(params.slice(0, -2) as A, opts, self);
  });
  return cmd;
}

/** `--subscribe <user[:days]>` (repeatable) as `parseUserTarget` (cli/format.ts) collects it. */
export const SubscriptionTargets = Type.Optional(
  Type.Array(
    Type.Object(
      { userId: Type.Integer({ minimum: 1 }), days: Type.Optional(Type.Integer({ minimum: 1 })) },
      { additionalProperties: false },
    ),
  ),
);
