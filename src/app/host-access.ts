import { AppError } from "../domain/errors.js";
import type { HostAdapter } from "../host/sub2api/index.js";
import { latestSnapshot } from "../store/hosts.js";
import type { HostRow } from "../store/schema.js";
import { SECRET_PURPOSE } from "../util/secrets.js";
import type { AppContext } from "./context.js";

/** The adapter for a stored host: its admin key decrypted, configured from its latest capability snapshot. */
export async function hostAdapterFor(ctx: AppContext, row: HostRow): Promise<HostAdapter> {
  const caps = (await latestSnapshot(ctx, row.id))?.capabilities;
  let adminKey: string;
  try {
    adminKey = ctx.secrets.open(row.adminTokenSealed, SECRET_PURPOSE.adminToken);
  } catch (err) {
    throw new AppError(
      "internal",
      "SECRET_UNREADABLE",
      `cannot decrypt the admin key of host "${row.name}"`,
      {
        hint: "The master key differs from the one the host was registered with; restore RELAY_MASTER_KEY or the key file.",
        cause: err,
      },
    );
  }
  return ctx.hostAdapter({
    hostName: row.name,
    baseUrl: row.baseUrl,
    adminKey,
    ...(caps?.max_page_size ? { pageSize: caps.max_page_size } : {}),
    ...(caps?.idempotency !== undefined ? { idempotency: caps.idempotency } : {}),
  });
}
