import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from "node:fs";

/** Why a file was refused; the caller turns it into its own error (which may not name the file). */
export class FileRefused extends Error {
  constructor(
    readonly reason: "missing" | "directory" | "special" | "pseudo" | "too_large" | "unreadable",
    message: string,
  ) {
    super(message);
  }
}

/** Kernel pseudo-filesystems: their files claim a size of 0 and can be endless or block. */
const PSEUDO = /^\/(proc|sys|dev)(\/|$)/;

/**
 * Reads a regular file of at most `maxBytes`, refusing everything else before reading a byte:
 * directories, FIFOs, sockets, devices (`/dev/zero`), and anything under /proc, /sys or /dev. The
 * size is checked from `fstat` and again while reading, so a file that grows is cut off too.
 * The file is opened non-blocking, so a FIFO with no writer cannot hang the process.
 */
export function readBoundedFile(path: string, maxBytes: number): Buffer {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new FileRefused("missing", "no such file");
  }
  if (PSEUDO.test(real)) throw new FileRefused("pseudo", "a kernel pseudo-file (/proc, /sys, /dev)");
  let fd: number;
  try {
    fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    throw new FileRefused("unreadable", "cannot be opened for reading");
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new FileRefused("directory", "a directory, not a file");
    if (!st.isFile()) throw new FileRefused("special", "not a regular file (a FIFO, socket or device)");
    if (st.size > maxBytes) throw new FileRefused("too_large", `larger than ${maxBytes} bytes`);
    const chunks: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw new FileRefused("too_large", `larger than ${maxBytes} bytes`);
      chunks.push(Buffer.from(chunk.subarray(0, n)));
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads an already open descriptor (stdin) to its end, refusing it once it passes `maxBytes`:
 * `< /dev/zero` ends in a clear refusal instead of filling memory.
 */
export function readBoundedFd(fd: number, maxBytes: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const chunk = Buffer.alloc(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      if (code === "EOF") break;
      throw new FileRefused("unreadable", "cannot be read");
    }
    if (n === 0) break;
    total += n;
    if (total > maxBytes) throw new FileRefused("too_large", `more than ${maxBytes} bytes`);
    chunks.push(Buffer.from(chunk.subarray(0, n)));
  }
  return Buffer.concat(chunks, total);
}
