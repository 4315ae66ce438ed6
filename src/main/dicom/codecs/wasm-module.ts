/**
 * Hosts one Emscripten codec build inside the decoder worker: loads it once, runs one decode with
 * the embind decoder class, copies the pixels out of WebAssembly memory, and turns whatever the
 * module throws (a JS Error, a C++ exception pointer, an abort) into a one-line DecodeError.
 *
 * Worker-only: `capWasmMemory` patches the worker's WebAssembly global.
 */
import { DecodeError } from './types.js';
import type { EmbindDecoder, EmscriptenModule, WasmFrameInfo } from './wasm-types.js';

type DecoderClassName = 'JpegLSDecoder' | 'J2KDecoder' | 'JPEGDecoder';

let memoryLimitHit = false;

// The project's lib (ES2023, Node types) declares no WebAssembly namespace; this is the part we use.
interface WasmMemoryLike {
  readonly buffer: ArrayBuffer;
  grow(delta: number): number;
}
const Wasm = (globalThis as unknown as {
  WebAssembly: { Memory: { prototype: WasmMemoryLike }; RuntimeError: abstract new () => Error };
}).WebAssembly;

/**
 * Emscripten builds with ALLOW_MEMORY_GROWTH export their memory and grow it through
 * `WebAssembly.Memory.prototype.grow` from JS (`emscripten_resize_heap`), and a worker's
 * `resourceLimits` do not cover WebAssembly memory. Refusing growth past the limit makes the
 * module's malloc fail, which the codec reports as an error, instead of letting a hostile stream
 * take gigabytes. Called once, at worker start. The builds start with 50 MB (their initial
 * memory), so a limit below that only stops growth.
 */
export function capWasmMemory(limitBytes: number): () => void {
  const proto = Wasm.Memory.prototype;
  const grow = proto.grow;
  proto.grow = function cappedGrow(this: WasmMemoryLike, delta: number): number {
    if (this.buffer.byteLength + delta * 65536 > limitBytes) {
      memoryLimitHit = true;
      throw new RangeError('WebAssembly memory limit reached');
    }
    return grow.call(this, delta);
  };
  // For tests that cap in-process; the worker never uncaps.
  return () => {
    proto.grow = grow;
  };
}

/** True once since the last call if a module was refused memory; the worker then retires itself. */
export function takeMemoryLimitHit(): boolean {
  const hit = memoryLimitHit;
  memoryLimitHit = false;
  return hit;
}

export interface WasmDecoded {
  info: WasmFrameInfo;
  /** A copy, so the caller may keep it after the module's heap moves or is reused. */
  bytes: Uint8Array;
}

export class WasmCodecHost {
  private module: Promise<EmscriptenModule> | undefined;
  private readonly messages: string[] = [];

  constructor(
    private readonly label: string,
    private readonly className: DecoderClassName,
    private readonly load: () => Promise<(arg?: object) => Promise<object>>,
  ) {}

  private getModule(): Promise<EmscriptenModule> {
    this.module ??= this.load().then(async (factory) => {
      // Emscripten prints aborts and asserts to stderr; keep them for the error message instead.
      const keep = (text: string): void => {
        // OpenJPEG narrates its progress at [INFO]; only warnings and errors explain a failure.
        if (text.startsWith('[INFO]')) return;
        this.messages.push(text);
        if (this.messages.length > 20) this.messages.shift();
      };
      const mod = (await factory({ print: keep, printErr: keep })) as EmscriptenModule;
      if (typeof mod[this.className] !== 'function') {
        throw new DecodeError(`${this.label} decoder module has no ${this.className} class`);
      }
      return mod;
    });
    return this.module;
  }

  async decode(stream: Uint8Array, opts: { readHeaderFirst?: (info: WasmFrameInfo) => void } = {}): Promise<WasmDecoded> {
    const mod = await this.getModule();
    const Decoder = mod[this.className]!;
    this.messages.length = 0;
    let decoder: EmbindDecoder | undefined;
    try {
      decoder = new Decoder();
      decoder.getEncodedBuffer(stream.length).set(stream);
      if (opts.readHeaderFirst && decoder.readHeader) {
        decoder.readHeader();
        opts.readHeaderFirst(decoder.getFrameInfo());
      }
      decoder.decode();
      const info = decoder.getFrameInfo();
      const bytes = decoder.getDecodedBuffer().slice();
      return { info: { ...info }, bytes };
    } catch (e) {
      if (e instanceof DecodeError) throw e;
      throw new DecodeError(`${this.label} decoder failed: ${this.describe(mod, e)}`, { cause: e });
    } finally {
      try {
        decoder?.delete();
      } catch {
        // A decoder whose module aborted cannot be deleted; the worker is retired anyway.
      }
    }
  }

  private describe(mod: EmscriptenModule, e: unknown): string {
    let text: string;
    if (e instanceof Error) {
      text = e.message;
    } else if (mod.getExceptionMessage && (typeof e === 'number' || (typeof e === 'object' && e !== null))) {
      // A C++ exception crosses into JS as a pointer (or a WebAssembly.Exception wrapping one).
      try {
        const m = mod.getExceptionMessage(e);
        text = Array.isArray(m) ? m.filter((x) => typeof x === 'string' && x).join(': ') : String(m);
      } catch {
        text = `C++ exception ${String(e)}`;
      }
    } else if (typeof e === 'number') {
      // libjpeg-turbo's build throws a bare pointer and exports no way to read it; what it
      // printed (captured above) is the only message there is.
      text = 'the codec raised an exception';
    } else {
      text = String(e);
    }
    const printed = this.messages.filter((m) => m.trim()).slice(-2).join('; ');
    return printed && !text.includes(printed) ? `${text} (${printed})` : text;
  }
}

/** An abort leaves the Emscripten module unusable: the worker must be replaced. */
export function isFatalWasmError(e: unknown): boolean {
  const cause = e instanceof DecodeError && e.cause !== undefined ? e.cause : e;
  if (cause instanceof Wasm.RuntimeError) return true;
  const msg = cause instanceof Error ? cause.message : '';
  return /Aborted\(|abort\(|out of memory|OOM/i.test(msg);
}
