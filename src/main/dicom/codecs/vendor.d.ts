/**
 * Types for the decoder packages, which ship none (or none that resolve under NodeNext). Only what
 * ./wasm-module.ts and the codec files call is declared; see each package's README and the
 * embind class names in its .wasm (JpegLSDecoder, J2KDecoder, JPEGDecoder). The Emscripten
 * factories are typed loosely here and narrowed in ./wasm-module.ts, which checks the class it
 * needs is present.
 */

declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  const factory: (arg?: object) => Promise<object>;
  export default factory;
}

declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: (arg?: object) => Promise<object>;
  export default factory;
}

declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  const factory: (arg?: object) => Promise<object>;
  export default factory;
}

declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    constructor(buffer?: ArrayBuffer | null, numBytes?: number);
    /** Returns the decoded samples: Uint8Array when numBytes is 1, Uint16Array when 2. */
    decode(buffer?: ArrayBuffer, offset?: number, length?: number, numBytes?: number): Uint8Array | Uint16Array;
    /** Next output position; yLoc === yDim once every sample has been written. */
    xLoc: number;
    yLoc: number;
    /** Predictors (T.81 Table H.1): Ra, Rb; select7 is Px = (Ra + Rb) / 2. */
    getPreviousX(compOffset?: number): number;
    getPreviousY(compOffset?: number): number;
    select7(compOffset?: number): number;
  }
}
