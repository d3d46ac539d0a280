import { lookup } from "node:dns/promises";
import { invalidInput } from "../domain/errors.js";

/**
 * What an operator types when adding a host, checked before any call leaves: the base URL (scheme,
 * credentials, link-local and metadata addresses), the admin key and the probe user's e-mail.
 */
const EMAIL_LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const EMAIL_DOMAIN =
  /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * An email address the probe user can log in with: one `@`, a dot-atom local part of at most 64
 * characters and a host name, printable ASCII only (the address is shown, logged and sent to the host).
 */
export function isEmailAddress(email: string): boolean {
  const at = email.lastIndexOf("@");
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  return (
    at > 0 &&
    email.length <= 254 &&
    local.length <= 64 &&
    EMAIL_LOCAL.test(local) &&
    EMAIL_DOMAIN.test(domain)
  );
}

export function validateBaseUrl(raw: string, allowInsecure: boolean): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw invalidInput("INVALID_BASE_URL", `base URL "${raw}" is not a valid URL`, {
      hint: "Use the form https://sub2api.example.com",
    });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw invalidInput("INVALID_BASE_URL", `base URL scheme "${url.protocol}" is not allowed; use https://`);
  }
  if (url.username || url.password) {
    throw invalidInput("INVALID_BASE_URL", "base URL must not contain credentials", {
      hint: "Give the admin key with --admin-key-file, --admin-key-stdin or --admin-key-env instead.",
    });
  }
  if (url.search || url.hash)
    throw invalidInput("INVALID_BASE_URL", "base URL must not have a query string or fragment");
  if (url.protocol === "http:" && !allowInsecure && !isLoopback(url.hostname)) {
    throw invalidInput(
      "INSECURE_BASE_URL",
      `refusing plain http to ${url.hostname}: the admin key would cross the network unencrypted`,
      {
        hint: "Use https://, or set RELAY_ALLOW_INSECURE_HOSTS=true for a trusted private network.",
      },
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

const METADATA_NAMES = new Set(["metadata.google.internal", "metadata.goog", "metadata", "instance-data"]);

/**
 * Link-local and cloud-metadata addresses: 169.254.0.0/16 (AWS, GCP, Azure, OpenStack metadata at
 * 169.254.169.254), fe80::/10, fd00:ec2::254 (AWS IPv6), 100.100.100.200 (Alibaba Cloud). A host
 * answer there is never a sub2api, and probing them leaks the cloud's credentials.
 */
export function isLinkLocalOrMetadata(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (METADATA_NAMES.has(h)) return true;
  if (/^169\.254\.\d{1,3}\.\d{1,3}$/.test(h) || h === "100.100.100.200") return true;
  if (/^fe[89ab][0-9a-f]?:/.test(h) || h === "fd00:ec2::254") return true;
  const mapped = /^::ffff:(\d{1,3}(\.\d{1,3}){3})$/.exec(h)?.[1];
  if (mapped !== undefined) return isLinkLocalOrMetadata(mapped);
  // URL() writes an IPv4-mapped address in hex: ::ffff:a9fe:a9fe is 169.254.169.254.
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (!hex) return false;
  const [hi, lo] = [Number.parseInt(hex[1] as string, 16), Number.parseInt(hex[2] as string, 16)];
  return isLinkLocalOrMetadata(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
}

/** Refuses a host whose name or resolved address is link-local or a metadata service. */
export async function refuseLinkLocal(baseUrl: string, allowed: boolean): Promise<void> {
  if (allowed) return;
  const host = new URL(baseUrl).hostname;
  const refuse = () =>
    invalidInput(
      "LINK_LOCAL_HOST",
      `refusing ${host}: a link-local or cloud-metadata address is never a sub2api host`,
      {
        hint: "Give the sub2api server's own address; set RELAY_ALLOW_LINK_LOCAL_HOSTS=true only if sub2api really runs there.",
      },
    );
  if (isLinkLocalOrMetadata(host)) throw refuse();
  let addresses: { address: string }[] = [];
  try {
    addresses = await lookup(host.replace(/^\[|\]$/g, ""), { all: true });
  } catch {
    return; // unresolvable: the probe reports it as unreachable
  }
  if (addresses.some((a) => isLinkLocalOrMetadata(a.address))) throw refuse();
}

export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

export function validateAdminKey(token: string): string {
  const key = token.trim();
  if (key === "") throw invalidInput("ADMIN_KEY_EMPTY", "the admin API key is empty");
  if (key.length > 512 || /\s/.test(key))
    throw invalidInput("ADMIN_KEY_INVALID", "the admin API key contains whitespace or is too long");
  return key;
}
