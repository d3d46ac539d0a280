import { AppError } from "../domain/errors.js";
import type { Db } from "../store/db.js";
import { getSetting, putSettingIfAbsent, resealAll } from "../store/settings.js";
import { SECRET_PURPOSE, SecretBox } from "../util/secrets.js";

const HMAC_SETTING = "key_hmac_secret";

/**
 * The secret box of this installation: the encryption key comes from the master key; the HMAC
 * secret that identifies provider keys is stored sealed in `settings` (seeded on first use), so
 * that a master key rotation leaves every recorded key hash valid.
 */
export async function openSecretBox(db: Db, masterKey: Buffer): Promise<SecretBox> {
  const bootstrap = new SecretBox(masterKey);
  const sealed = await getSetting(db, HMAC_SETTING);
  if (sealed === undefined) {
    const seed = SecretBox.derivedMacKey(masterKey);
    await putSettingIfAbsent(
      db,
      HMAC_SETTING,
      bootstrap.seal(seed.toString("base64"), SECRET_PURPOSE.hmacSecret),
    );
    return await openSecretBox(db, masterKey);
  }
  let mac: string;
  try {
    mac = bootstrap.open(sealed, SECRET_PURPOSE.hmacSecret);
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
export async function rotateMasterKey(
  db: Db,
  oldKey: Buffer,
  newKey: Buffer,
): Promise<{ hosts: number; secrets: number }> {
  const from = await openSecretBox(db, oldKey);
  const old = new SecretBox(oldKey);
  const to = new SecretBox(newKey);
  const reseal = (sealed: string, purpose: string) => to.seal(from.open(sealed, purpose), purpose);
  return await resealAll(db, [HMAC_SETTING], {
    host: (h) => ({
      adminTokenSealed: reseal(h.adminTokenSealed, SECRET_PURPOSE.adminToken),
      probePasswordSealed: h.probePasswordSealed
        ? reseal(h.probePasswordSealed, SECRET_PURPOSE.probePassword)
        : null,
    }),
    // The HMAC secret is sealed under the master key itself, not under the installation's box.
    setting: (_key, value) => to.seal(old.open(value, SECRET_PURPOSE.hmacSecret), SECRET_PURPOSE.hmacSecret),
  });
}
