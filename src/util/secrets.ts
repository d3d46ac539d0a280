import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hash,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";

const VERSION = "v1";

/** Associated data of each kind of sealed secret: a ciphertext only opens for its own purpose. */
export const SECRET_PURPOSE = {
  adminToken: "host-admin-token",
  probePassword: "probe-user-password",
  hmacSecret: "key-hmac-secret",
} as const;

/**
 * Secrets at rest: AES-256-GCM with a subkey derived from the master key (HKDF), and an HMAC subkey
 * for identifying provider keys without storing them. The associated data binds each ciphertext to
 * its purpose, so a token ciphertext cannot be swapped into a password column.
 */
export class SecretBox {
  readonly #encKey: Buffer;
  readonly #macKey: Buffer;

  /**
   * @param macKey the installation's stored HMAC secret; without it the secret is derived from the
   *   master key (which is also how an installation's first stored secret is seeded).
   */
  constructor(masterKey: Buffer, macKey?: Buffer) {
    if (masterKey.length !== 32) throw new Error("master key must be 32 bytes");
    this.#encKey = Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), "relay/secret-box/v1", 32));
    this.#macKey = macKey ?? SecretBox.derivedMacKey(masterKey);
  }

  static derivedMacKey(masterKey: Buffer): Buffer {
    return Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), "relay/key-hmac/v1", 32));
  }

  seal(plaintext: string, purpose: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#encKey, iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv.toString("base64"), tag.toString("base64"), body.toString("base64")].join(":");
  }

  open(sealed: string, purpose: string): string {
    const [version, iv, tag, body] = sealed.split(":");
    if (version !== VERSION || !iv || !tag || body === undefined) {
      throw new Error("unrecognised secret format");
    }
    const decipher = createDecipheriv("aes-256-gcm", this.#encKey, Buffer.from(iv, "base64"));
    decipher.setAAD(Buffer.from(purpose));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
    } catch {
      throw new Error("secret cannot be decrypted: wrong master key or tampered data");
    }
  }

  /** Keyed hash of a provider key: 64 lowercase hex characters. */
  keyHash(secret: string): string {
    return createHmac("sha256", this.#macKey).update(secret, "utf8").digest("hex");
  }
}

const compareDigest = (s: string) => createHmac("sha256", "relay/compare").update(s).digest();

/** Constant-time comparison of two strings (of any length). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(compareDigest(a), compareDigest(b)) && a.length === b.length;
}

/**
 * `safeEqual` against one fixed secret (a bearer token, once per request): the expected digest is
 * computed once, and the candidate's with one-shot SHA-256, a fraction of an HMAC's cost. Equal
 * digests of a collision-resistant hash mean equal strings; the comparison is constant-time.
 */
export function secretMatcher(expected: string): (candidate: string) => boolean {
  const sha256 = (s: string) => hash("sha256", s, "buffer");
  const digest = sha256(expected);
  return (candidate) => timingSafeEqual(sha256(candidate), digest) && candidate.length === expected.length;
}

/** `sk-…a1b2`: the prefix up to the first dash (`sk-`, `admin-`) and the last 4. */
export function maskSecret(secret: string): string {
  const tail = secret.length > 8 ? secret.slice(-4) : "";
  const dash = secret.indexOf("-");
  const head =
    dash > 0 && dash <= 5 ? secret.slice(0, dash + 1) : secret.length > 8 ? secret.slice(0, 2) : "";
  return `${head}…${tail}`;
}

/** A 32-byte key given as 64 hex characters or base64; undefined when it is neither. */
export function decodeMasterKey(text: string): Buffer | undefined {
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "base64");
  return key.length === 32 ? key : undefined;
}
