import { lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import yauzl from "yauzl";
import { AppError, type ErrorCode } from "../domain/errors.js";
import type { PackFiles } from "../domain/pack/validate.js";
import { FileRefused, readBoundedFile } from "../util/bounded-read.js";

export type { PackFiles };

/**
 * Reading a pack from a directory or a zip. Input is untrusted: every limit is checked from
 * metadata before content is read (declared sizes in the zip's central directory, `lstat` on disk),
 * and again while streaming, so nothing large is ever buffered and nothing is written anywhere.
 */
export const PACK_LIMITS = {
  maxEntries: 512,
  maxEntryBytes: 1024 * 1024,
  maxTotalBytes: 16 * 1024 * 1024,
  /** Uncompressed/compressed above this is a bomb… */
  maxRatio: 100,
  /** …for entries larger than this (small files may legitimately compress well). */
  ratioFloorBytes: 64 * 1024,
  maxArchiveBytes: 16 * 1024 * 1024,
};
export type PackLimits = typeof PACK_LIMITS;

export function loadError(code: ErrorCode, message: string, file?: string): AppError {
  return new AppError("pack_invalid", code, message, {
    details: { issues: [{ severity: "error", code, file: file ?? null, pointer: null, message }] },
    hint: "Fix the pack and try again; nothing was installed.",
  });
}

/** Loads a pack directory or zip. `shown` is how messages name the path (the API shows it relative to RELAY_PACKS_DIR). */
export async function loadPack(
  path: string,
  limits: PackLimits = PACK_LIMITS,
  shown = path,
): Promise<PackFiles> {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    throw new AppError("invalid_input", "PACK_PATH_NOT_FOUND", `no file or directory at ${shown}`);
  }
  if (st.isDirectory()) {
    if (PSEUDO_FS.test(realpathSync(path)))
      throw new AppError("invalid_input", "PACK_PATH_INVALID", `${shown} is not a pack directory`);
    return loadPackDir(path, limits);
  }
  return loadPackZip(
    readPackFile(path, limits.maxArchiveBytes, "ARCHIVE_TOO_LARGE", undefined, shown),
    shown,
    limits,
  );
}

const PSEUDO_FS = /^\/(proc|sys|dev)(\/|$)/;

/** A file of the pack: regular, within its limit, refused before any read otherwise (FIFOs, devices, /proc). */
function readPackFile(path: string, max: number, tooLarge: ErrorCode, rel?: string, shown = path): Buffer {
  try {
    return readBoundedFile(path, max);
  } catch (err) {
    if (!(err instanceof FileRefused)) throw err;
    const what = rel ?? shown;
    if (err.reason === "too_large") throw loadError(tooLarge, `${what} is ${err.message}`, rel);
    throw loadError("ENTRY_NOT_REGULAR", `${what} is not a regular file: ${err.message}`, rel);
  }
}

export function loadPackDir(root: string, limits: PackLimits = PACK_LIMITS): PackFiles {
  const files = new Map<string, Buffer>();
  let entries = 0;
  let total = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const rel = relative(root, full).split(sep).join("/");
      const st = lstatSync(full);
      entries += 1;
      if (entries > limits.maxEntries)
        throw loadError("TOO_MANY_ENTRIES", `more than ${limits.maxEntries} entries`);
      if (st.isSymbolicLink())
        throw loadError(
          "SYMLINK_NOT_ALLOWED",
          `${rel} is a symbolic link; packs hold regular files only`,
          rel,
        );
      if (st.isDirectory()) {
        walk(full);
        continue;
      }
      if (!st.isFile()) throw loadError("ENTRY_NOT_REGULAR", `${rel} is not a regular file`, rel);
      if (st.size > limits.maxEntryBytes) {
        throw loadError(
          "ENTRY_TOO_LARGE",
          `${rel} is ${st.size} bytes; the limit per file is ${limits.maxEntryBytes}`,
          rel,
        );
      }
      total += st.size;
      if (total > limits.maxTotalBytes)
        throw loadError("PACK_TOO_LARGE", `pack exceeds ${limits.maxTotalBytes} bytes in total`);
      files.set(rel, readPackFile(full, limits.maxEntryBytes, "ENTRY_TOO_LARGE", rel));
    }
  };
  walk(root);
  return { files, duplicates: [], source: root };
}

/** Zip paths must be relative, `/`-separated, without `..`, drive letters or control characters. */
function checkZipPath(name: string): void {
  if (name.includes("\\")) throw loadError("ZIP_PATH_INVALID", `entry "${name}" uses backslashes`, name);
  if ([...name].some((ch) => ch.charCodeAt(0) < 0x20))
    throw loadError("ZIP_PATH_INVALID", "an entry name contains control characters");
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name))
    throw loadError("ZIP_PATH_ABSOLUTE", `entry "${name}" is an absolute path`, name);
  if (name.split("/").some((s) => s === ".."))
    throw loadError("ZIP_PATH_TRAVERSAL", `entry "${name}" escapes the pack with ".."`, name);
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/**
 * Two passes over the zip: first every entry's metadata is checked (names, types, declared sizes,
 * totals, ratios) without reading any content; only a zip that passes all of it is then read,
 * entry by entry, with yauzl checking each stream against its declared size.
 */
export async function loadPackZip(
  buffer: Buffer,
  source: string,
  limits: PackLimits = PACK_LIMITS,
): Promise<PackFiles> {
  if (buffer.length > limits.maxArchiveBytes) {
    throw loadError(
      "ARCHIVE_TOO_LARGE",
      `archive is ${buffer.length} bytes; the limit is ${limits.maxArchiveBytes}`,
    );
  }
  const zip = await openZip(buffer);
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw loadError(
        "TOO_MANY_ENTRIES",
        `archive has ${zip.entryCount} entries; the limit is ${limits.maxEntries}`,
      );
    }
    const entries = await listEntries(zip);
    const files: { name: string; entry: yauzl.Entry }[] = [];
    let total = 0;
    for (const entry of entries) {
      const name = (entry.fileName as unknown as Buffer).toString("utf8");
      checkZipPath(name);
      const type = (entry.externalFileAttributes >>> 16) & 0xffff & S_IFMT;
      if (type === S_IFLNK)
        throw loadError("SYMLINK_NOT_ALLOWED", `entry "${name}" is a symbolic link`, name);
      if (name.endsWith("/")) {
        if (type !== 0 && type !== S_IFDIR)
          throw loadError("ENTRY_NOT_REGULAR", `entry "${name}" is not a directory or regular file`, name);
        continue;
      }
      if (type !== 0 && type !== S_IFREG)
        throw loadError("ENTRY_NOT_REGULAR", `entry "${name}" is not a regular file`, name);
      if (entry.isEncrypted()) throw loadError("ZIP_ENCRYPTED", `entry "${name}" is encrypted`, name);
      if (entry.uncompressedSize > limits.maxEntryBytes) {
        throw loadError(
          "ENTRY_TOO_LARGE",
          `entry "${name}" declares ${entry.uncompressedSize} bytes; the limit per file is ${limits.maxEntryBytes}`,
          name,
        );
      }
      total += entry.uncompressedSize;
      if (total > limits.maxTotalBytes)
        throw loadError(
          "PACK_TOO_LARGE",
          `archive declares more than ${limits.maxTotalBytes} bytes in total`,
        );
      if (
        entry.uncompressedSize > limits.ratioFloorBytes &&
        entry.uncompressedSize > entry.compressedSize * limits.maxRatio
      ) {
        const ratio = Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize));
        throw loadError(
          "ZIP_RATIO_EXCEEDED",
          `entry "${name}" expands ${ratio}× (limit ${limits.maxRatio}×)`,
          name,
        );
      }
      files.push({ name, entry });
    }
    const raw = new Map<string, Buffer>();
    const duplicates: string[] = [];
    for (const { name, entry } of files) {
      const data = await readEntry(zip, entry, name, limits.maxEntryBytes);
      if (raw.has(name)) duplicates.push(name);
      raw.set(name, data);
    }
    return { files: stripCommonRoot(raw), duplicates, source };
  } finally {
    zip.close();
  }
}

function openZip(buffer: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    // decodeStrings:false so that names are checked here, with specific codes, not by yauzl.
    yauzl.fromBuffer(
      buffer,
      { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: false },
      (err, zip) => {
        if (err || !zip)
          reject(loadError("ZIP_INVALID", `not a readable zip archive: ${err?.message ?? "unknown error"}`));
        else resolve(zip);
      },
    );
  });
}

function listEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on("entry", (entry: yauzl.Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.on("end", () => resolve(entries));
    zip.on("error", (err: Error) => reject(loadError("ZIP_INVALID", `corrupt zip archive: ${err.message}`)));
    zip.readEntry();
  });
}

function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, name: string, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) {
        reject(loadError("ZIP_INVALID", `cannot read entry "${name}": ${err?.message ?? "no stream"}`, name));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on("data", (chunk: Buffer) => {
        size += chunk.length;
        // validateEntrySizes already stops at the declared size; this guards the limit regardless.
        if (size > maxBytes) {
          stream.destroy(
            loadError("ENTRY_TOO_LARGE", `entry "${name}" inflates past ${maxBytes} bytes`, name),
          );
          return;
        }
        chunks.push(chunk);
      });
      stream.on("error", (e: unknown) =>
        reject(
          e instanceof AppError
            ? e
            : loadError("ZIP_INVALID", `corrupt entry "${name}": ${(e as Error).message}`, name),
        ),
      );
      stream.on("end", () => resolve(Buffer.concat(chunks)));
    });
  });
}

/** Zipping a directory often nests everything under one folder; the pack root is that folder. */
function stripCommonRoot(files: Map<string, Buffer>): Map<string, Buffer> {
  if (files.has("pack.json")) return files;
  const tops = new Set([...files.keys()].map((p) => p.split("/")[0]));
  const [top] = [...tops];
  if (tops.size !== 1 || top === undefined || ![...files.keys()].every((p) => p.startsWith(`${top}/`)))
    return files;
  return new Map([...files].map(([p, b]) => [p.slice(top.length + 1), b]));
}
