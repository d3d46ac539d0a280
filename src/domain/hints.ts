/**
 * Hints name what to do next in the words of the shell that shows them: the CLI names a command
 * (`relay host probe prod`), the API the route that does the same (`POST /api/hosts/prod/probe`).
 * A hint is written once, as a sentence around actions (`hint` below), and carries both forms.
 */

/** Something the operator can do: its CLI command and, where one exists, its API route. */
export interface Action {
  cli: string;
  api?: string;
}

/** A hint in both forms: the CLI prints `cli`, an API error body carries `api` as its `hint`. */
export interface Hint {
  cli: string;
  api: string;
}

/**
 * A hint from a sentence naming actions: ``hint`Run ${act.hostProbe(name)} first.` `` gives
 * "Run `relay host probe prod` first." and "Run `POST /api/hosts/prod/probe` first.". An action
 * without an API route is named by its command in both forms; a plain string part stays as it is.
 */
export function hint(text: TemplateStringsArray, ...parts: (Action | string)[]): Hint {
  let cli = text[0] ?? "";
  let api = cli;
  parts.forEach((part, i) => {
    const rest = text[i + 1] ?? "";
    if (typeof part === "string") {
      cli += part + rest;
      api += part + rest;
    } else {
      cli += `\`${part.cli}\`${rest}`;
      api += `\`${part.api ?? part.cli}\`${rest}`;
    }
  });
  return { cli, api };
}

const withArgs = (command: string, args: string) => (args ? `${command} ${args}` : command);

/** The actions hints name. `args` is the rest of the command line, as the operator would type it. */
export const act = {
  hostAdd: (): Action => ({ cli: "relay host add", api: "POST /api/hosts" }),
  hostList: (): Action => ({ cli: "relay host list", api: "GET /api/hosts" }),
  hostProbe: (host?: string): Action => ({
    cli: withArgs("relay host probe", host ?? ""),
    api: `POST /api/hosts/${host ?? "{host_id}"}/probe`,
  }),
  hostRemove: (host: string): Action => ({
    cli: `relay host remove ${host}`,
    api: `DELETE /api/hosts/${host}`,
  }),
  hostRemoveProbeUser: (host: string): Action => ({ cli: `relay host remove-probe-user ${host} --yes` }),
  packInstall: (): Action => ({ cli: "relay pack install", api: "POST /api/packs/install" }),
  packList: (): Action => ({ cli: "relay pack list", api: "GET /api/packs" }),
  packLint: (args = ""): Action => ({ cli: withArgs("relay pack lint", args) }),
  batchList: (args = ""): Action => ({
    cli: withArgs("relay batch list", args),
    api: "GET /api/providers/{provider_id}/import-batches",
  }),
  batchRollback: (batchId: string): Action => ({
    cli: `relay batch rollback ${batchId}`,
    api: `POST /api/import-batches/${batchId}/rollback`,
  }),
  batchRecover: (): Action => ({ cli: "relay batch recover" }),
  providerPreview: (args = ""): Action => ({
    cli: withArgs("relay provider preview", args),
    api: "POST /api/providers/{provider_id}/preview-import",
  }),
  providerImport: (args = ""): Action => ({
    cli: withArgs("relay provider import", args),
    api: "POST /api/providers/{provider_id}/import",
  }),
  providerRotate: (args: string): Action => ({ cli: `relay provider rotate ${args}` }),
  providerMigrate: (args: string): Action => ({ cli: `relay provider migrate ${args}` }),
  accessProbe: (args = "PROVIDER --host HOST"): Action => ({
    cli: `relay access status ${args} --probe`,
    api: "GET /api/providers/{provider_id}/access/status?probe=true",
  }),
};
