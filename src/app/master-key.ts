import { eq } from "drizzle-orm";
import { AppError } from "../domain/errors.js";
import type { Db } from "../store/db.js";
import { hosts, settings } from "../store/schema.js";
import { SECRET_PURPOSE, SecretBox } from "../util/secrets.js";

const HMAC_SETTING = "key_hmac_secret";

/**
 * The secret box of this installation: the encryption key comes from the master key; the HMAC
 * secret that identifies provider keys is stored sealed in `settings` (seeded on first use), so
 * that a master key rotation leaves every recorded key hash valid.
 */
export function openSecretBox(db: Db, masterKey: Buffer): SecretBox {
  const bootstrap = new SecretBox(masterKey);
  const row = db.select().from(settings).where(eq(settings.key, HMAC_SETTING)).get();
  if (!row) {
    const seed = SecretBox.derivedMacKey(masterKey);
    db.insert(settings)
      .values({
        key: HMAC_SETTING,
        value: bootstrap.seal(seed.toString("base64"), SECRET_PURPOSE.hmacSecret),
        updatedAt: new Date().toISOString(),
      })
      .onConflictDoNothing()
      .run();
    return openSecretBox(db, masterKey);
  }
  let mac: string;
  try {
    mac = bootstrap.open(row.value, SECRET_PURPOSE.hmacSecret);
  } catch (err) {
    throw new AppError("internal", "MASTER_KEY_MISMATCH", "the master key does not match this database", {
      hint: "Use the RELAY_MASTER_KEY (or key file) this database was created with; see docs/deployment.md#rotating-the-master-key.",
      cause: err,
    });
  }
  return new SecretBox(masterKey, Buffer.from(mac, "base64"));
}

/**
 * Re-encrypts every secret under a new master key in one transaction: host admin tokens, probe
 * passwords and the HMAC secret. Afterwards the process must be started with the new key.
 */
export function rotateMasterKey(db: Db, oldKey: Buffer, newKey: Buffer): { hosts: number; secrets: number } {
  const from = openSecretBox(db, oldKey);
  const to = new SecretBox(newKey);
  let count = 0;
  const rows = db.select().from(hosts).all();
  db.transaction((tx) => {
    for (const h of rows) {
      const token = to.seal(
        from.open(h.adminTokenSealed, SECRET_PURPOSE.adminToken),
        SECRET_PURPOSE.adminToken,
      );
      const password = h.probePasswordSealed
        ? to.seal(
            from.open(h.probePasswordSealed, SECRET_PURPOSE.probePassword),
            SECRET_PURPOSE.probePassword,
          )
        : null;
      tx.update(hosts)
        .set({ adminTokenSealed: token, probePasswordSealed: password })
        .where(eq(hosts.id, h.id))
        .run();
      count += password ? 2 : 1;
    }
    const row = tx.select().from(settings).where(eq(settings.key, HMAC_SETTING)).get();
    if (row) {
      const mac = new SecretBox(oldKey).open(row.value, SECRET_PURPOSE.hmacSecret);
      tx.update(settings)
        .set({ value: to.seal(mac, SECRET_PURPOSE.hmacSecret), updatedAt: new Date().toISOString() })
        .where(eq(settings.key, HMAC_SETTING))
        .run();
      count += 1;
    }
  });
  return { hosts: rows.length, secrets: count };
}
