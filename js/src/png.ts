// A small PNG decoder for the raw-value tiles ("png-planes", see widget/protocol.py): exact
// bytes, no color management and no premultiplied alpha, which a canvas would apply.
// Supports non-interlaced 8/16-bit gray, gray+alpha, RGB and RGBA, all five filters.

import { unzlibSync } from "fflate";
import type { NumericArray } from "./colors";
import { DTYPE_SIZES, ENCODING_PNG_PALETTE, ENCODING_PNG_PLANES, ENCODING_RAW_PLANES, type TileReplyOk } from "./protocol";

export interface DecodedPng {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  channels: number;
  pixels: Uint8Array; // rows of width * channels * bitDepth/8 bytes, unfiltered
}

export type Inflate = (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/** zlib inflate, synchronous (fflate): ~1 ms for a tile, no stream machinery to queue in. */
export const inflateSync: Inflate = (data) => unzlibSync(data);

/** zlib inflate with the browser's (and node's) DecompressionStream. */
export const inflateZlib: Inflate = async (data) => {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
};

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export async function decodePng(bytes: Uint8Array, inflate: Inflate = inflateSync): Promise<DecodedPng> {
  for (let k = 0; k < 8; k++) if (bytes[k] !== SIGNATURE[k]) throw new Error("not a PNG");
  let pos = 8;
  let width = 0, height = 0, bitDepth = 0, colorType = -1, interlace = 0;
  const idat: Uint8Array[] = [];
  let idatLength = 0;
  while (pos + 8 <= bytes.length) {
    const length = u32(bytes, pos);
    const type = String.fromCharCode(bytes[pos + 4]!, bytes[pos + 5]!, bytes[pos + 6]!, bytes[pos + 7]!);
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    pos += 12 + length;
    if (type === "IHDR") {
      width = u32(data, 0);
      height = u32(data, 4);
      bitDepth = data[8]!;
      colorType = data[9]!;
      interlace = data[12]!;
    } else if (type === "IDAT") {
      idat.push(data);
      idatLength += data.length;
    } else if (type === "IEND") {
      break;
    }
  }
  const channels = CHANNELS[colorType];
  if (channels === undefined || (bitDepth !== 8 && bitDepth !== 16) || interlace !== 0) {
    throw new Error(`unsupported PNG (color type ${colorType}, bit depth ${bitDepth}, interlace ${interlace})`);
  }
  const compressed = new Uint8Array(idatLength);
  let o = 0;
  for (const part of idat) {
    compressed.set(part, o);
    o += part.length;
  }
  const raw = await inflate(compressed);
  const bpp = channels * (bitDepth / 8);
  const stride = width * bpp;
  if (raw.length < height * (stride + 1)) throw new Error("truncated PNG data");
  const pixels = new Uint8Array(height * stride);
  unfilter(raw, pixels, width, height, bpp);
  return { width, height, bitDepth, colorType, channels, pixels };
}

/** Undo PNG's per-row filters (None, Sub, Up, Average, Paeth). */
export function unfilter(raw: Uint8Array, out: Uint8Array, width: number, height: number, bpp: number): void {
  const stride = width * bpp;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const prev = dst - stride;
    switch (filter) {
      case 0:
        out.set(raw.subarray(src, src + stride), dst);
        break;
      case 1:
        if (bpp === 1) { // the value tiles' filter: a running sum along the row
          let left = 0;
          for (let x = 0; x < stride; x++) {
            left = (raw[src + x]! + left) & 255;
            out[dst + x] = left;
          }
          break;
        }
        for (let x = 0; x < stride; x++) {
          const left = x >= bpp ? out[dst + x - bpp]! : 0;
          out[dst + x] = (raw[src + x]! + left) & 255;
        }
        break;
      case 2:
        for (let x = 0; x < stride; x++) {
          const up = y > 0 ? out[prev + x]! : 0;
          out[dst + x] = (raw[src + x]! + up) & 255;
        }
        break;
      case 3:
        for (let x = 0; x < stride; x++) {
          const left = x >= bpp ? out[dst + x - bpp]! : 0;
          const up = y > 0 ? out[prev + x]! : 0;
          out[dst + x] = (raw[src + x]! + ((left + up) >> 1)) & 255;
        }
        break;
      case 4:
        for (let x = 0; x < stride; x++) {
          const a = x >= bpp ? out[dst + x - bpp]! : 0;
          const b = y > 0 ? out[prev + x]! : 0;
          const c = x >= bpp && y > 0 ? out[prev + x - bpp]! : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          const pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          out[dst + x] = (raw[src + x]! + pred) & 255;
        }
        break;
      default:
        throw new Error(`bad PNG filter ${filter}`);
    }
  }
}

export interface TileValues {
  dtype: string;
  w: number;
  h: number;
  /** The values; 64-bit integers as a Uint32Array with two words (lo, hi) per value. */
  values: NumericArray;
  words64: boolean;
  /** "png-palette" tiles: the tile's distinct ids (as `values`) and each pixel's index into them. */
  palette?: { ids: NumericArray; index: Uint8Array | Uint16Array };
}

/** Byte planes (k-th block of h rows = byte k of each little-endian value) -> values. */
export function planesToValues(pixels: Uint8Array, w: number, h: number, dtype: string): TileValues {
  const size = DTYPE_SIZES[dtype];
  if (size === undefined) throw new Error(`unknown dtype ${dtype}`);
  const n = w * h;
  if (pixels.length < n * size) throw new Error("tile data too short");
  const bytes = new Uint8Array(n * size);
  if (size === 1) {
    bytes.set(pixels.subarray(0, n));
  } else if (size === 4 || size === 2) {
    // whole words from the planes at once (little-endian, as typed arrays on every browser)
    const words = size === 4 ? new Uint32Array(bytes.buffer) : new Uint16Array(bytes.buffer);
    const p0 = pixels.subarray(0, n), p1 = pixels.subarray(n, 2 * n);
    if (size === 4) {
      const p2 = pixels.subarray(2 * n, 3 * n), p3 = pixels.subarray(3 * n, 4 * n);
      for (let p = 0; p < n; p++) words[p] = (p0[p]! | (p1[p]! << 8) | (p2[p]! << 16) | (p3[p]! << 24)) >>> 0;
    } else {
      for (let p = 0; p < n; p++) words[p] = p0[p]! | (p1[p]! << 8);
    }
  } else {
    for (let k = 0; k < size; k++) {
      const plane = pixels.subarray(k * n, (k + 1) * n);
      for (let p = 0; p < n; p++) bytes[p * size + k] = plane[p]!;
    }
  }
  return { dtype, w, h, ...typedValues(bytes.buffer, dtype) };
}

/** Little-endian values of `dtype` in `buf` as a typed array (64-bit: two words each). */
function typedValues(buf: ArrayBuffer, dtype: string): { values: NumericArray; words64: boolean } {
  switch (dtype) {
    case "uint8": return { values: new Uint8Array(buf), words64: false };
    case "int8": return { values: new Int8Array(buf), words64: false };
    case "uint16": return { values: new Uint16Array(buf), words64: false };
    case "int16": return { values: new Int16Array(buf), words64: false };
    case "uint32": return { values: new Uint32Array(buf), words64: false };
    case "int32": return { values: new Int32Array(buf), words64: false };
    case "float": return { values: new Float32Array(buf), words64: false };
    case "double": return { values: new Float64Array(buf), words64: false };
    case "uint64":
    case "int64": return { values: new Uint32Array(buf), words64: true };
    default: throw new Error(`unknown dtype ${dtype}`);
  }
}

/** Decode a "png-palette" tile (segment ids): u32 count n, the n ids (little-endian),
 * then a gray8 PNG of the index byte planes (1 plane for n <= 256, else 2). The values
 * are expanded for readouts; colouring uses the palette (one colour per id). */
export async function decodePaletteTile(
  bytes: Uint8Array, dtype: string, w: number, h: number, inflate: Inflate = inflateSync,
): Promise<TileValues> {
  const size = DTYPE_SIZES[dtype];
  if (size === undefined || size < 2) throw new Error(`no palette tiles of ${dtype}`);
  if (bytes.length < 4) throw new Error("palette tile too short");
  const n = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  const end = 4 + n * size;
  if (n < 1 || n > 65536 || bytes.length < end) throw new Error(`bad palette of ${n} ids`);
  const { values: ids, words64 } = typedValues(bytes.slice(4, end).buffer, dtype);
  const k = n <= 256 ? 1 : 2;
  const png = await decodePng(bytes.subarray(end), inflate);
  if (png.width !== w || png.height !== h * k || png.channels !== 1 || png.bitDepth !== 8) {
    throw new Error(`palette index PNG is ${png.width}x${png.height}, expected ${w}x${h * k} gray8`);
  }
  const count = w * h;
  let index: Uint8Array | Uint16Array;
  if (k === 1) {
    index = png.pixels.subarray(0, count);
  } else {
    const p = png.pixels;
    index = new Uint16Array(count);
    for (let q = 0; q < count; q++) index[q] = p[q]! | (p[count + q]! << 8);
  }
  const { values } = typedValues(new ArrayBuffer(count * size), dtype);
  if (words64) {
    const from = ids as Uint32Array, to = values as Uint32Array;
    for (let q = 0; q < count; q++) {
      const i = index[q]!;
      if (i >= n) throw new Error("palette index out of range");
      to[2 * q] = from[2 * i]!;
      to[2 * q + 1] = from[2 * i + 1]!;
    }
  } else {
    for (let q = 0; q < count; q++) {
      const i = index[q]!;
      if (i >= n) throw new Error("palette index out of range");
      values[q] = ids[i]!;
    }
  }
  return { dtype, w, h, values, words64, palette: { ids, index } };
}

/** Decode a "png-planes" tile. */
export async function decodePlanesTile(
  bytes: Uint8Array, dtype: string, w: number, h: number, inflate: Inflate = inflateSync,
): Promise<TileValues> {
  const png = await decodePng(bytes, inflate);
  const size = DTYPE_SIZES[dtype] ?? 1;
  if (png.width !== w || png.height !== h * size || png.channels !== 1 || png.bitDepth !== 8) {
    throw new Error(`tile PNG is ${png.width}x${png.height}, expected ${w}x${h * size} gray8`);
  }
  return planesToValues(png.pixels, w, h, dtype);
}

/** Decode a "raw-planes" tile: the byte planes of "png-planes", uncompressed. */
export function decodeRawPlanesTile(bytes: Uint8Array, dtype: string, w: number, h: number): TileValues {
  const size = DTYPE_SIZES[dtype] ?? 1;
  if (bytes.length !== w * h * size) throw new Error(`raw tile has ${bytes.length} bytes, expected ${w * h * size}`);
  return planesToValues(bytes, w, h, dtype);
}

/** The value at (x, y) of a tile, as a number or (for 64-bit ids beyond 2^53) a bigint. */
export function valueAt(t: TileValues, x: number, y: number): number | bigint {
  const k = y * t.w + x;
  if (t.words64) {
    const lo = t.values[2 * k]!;
    const hi = t.values[2 * k + 1]!;
    const big = (BigInt(hi) << 32n) | BigInt(lo);
    const v = t.dtype === "int64" ? BigInt.asIntN(64, big) : big;
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  return t.values[k]!;
}

/** Decode a tile reply's bytes by its encoding (the tile manager's decoder). */
export function decodeTileReply(reply: TileReplyOk, bytes: Uint8Array): Promise<TileValues> {
  if (reply.encoding === ENCODING_RAW_PLANES) {
    try {
      return Promise.resolve(decodeRawPlanesTile(bytes, reply.dtype, reply.w, reply.h));
    } catch (e) {
      return Promise.reject(e);
    }
  }
  if (reply.encoding === ENCODING_PNG_PALETTE) return decodePaletteTile(bytes, reply.dtype, reply.w, reply.h);
  if (reply.encoding !== ENCODING_PNG_PLANES) throw new Error(`unexpected tile encoding ${reply.encoding}`);
  return decodePlanesTile(bytes, reply.dtype, reply.w, reply.h);
}
