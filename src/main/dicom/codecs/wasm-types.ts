/**
 * The slice of the Emscripten/embind surface that the cornerstone codec builds expose
 * (codec-charls, codec-openjpeg, codec-libjpeg-turbo-8bit all follow one pattern: copy the
 * stream into getEncodedBuffer(), decode(), read getFrameInfo() and getDecodedBuffer(), delete()).
 */

export interface WasmFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

export interface EmbindDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  readHeader?(): void;
  getFrameInfo(): WasmFrameInfo;
  getDecodedBuffer(): Uint8Array;
  getNearLossless?(): number;
  delete(): void;
}

export interface EmscriptenModuleArg {
  print?: (text: string) => void;
  printErr?: (text: string) => void;
}

export interface EmscriptenModule {
  JpegLSDecoder?: new () => EmbindDecoder;
  J2KDecoder?: new () => EmbindDecoder;
  JPEGDecoder?: new () => EmbindDecoder;
  /** Present when the build was made with exception support (charls). */
  getExceptionMessage?: (e: unknown) => unknown;
}

export type EmscriptenFactory = (arg?: EmscriptenModuleArg) => Promise<EmscriptenModule>;
