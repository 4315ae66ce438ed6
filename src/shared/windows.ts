/**
 * Display/analysis windows (../shared/SEEDS.md). A window (centre C, width W) clips HU to
 * [C − W/2, C + W/2] and normalises to [0, 1]. The models apply windows inside their ONNX
 * graphs (the model contract); this module is what the app itself uses — the viewer's presets
 * (keys 1–0) and anything that renders a slice.
 */
import contract from './model-contract.json' with { type: 'json' };

export interface Window {
  readonly center: number;
  readonly width: number;
}

export interface NamedWindow extends Window {
  readonly name: string;
}

/** Brain window, also the default view when a slice carries no window tags (SEEDS.md, "ours"). */
export const BRAIN_WINDOW: NamedWindow = Object.freeze({ ...contract.defaultWindow });

/**
 * Rajagopal et al. 2023's systematic windows, in sequence order. The first is the slice's own
 * window from its DICOM tags, so it has no fixed values: `null` stands for "the slice's default".
 */
export type SystematicWindow = NamedWindow | { readonly name: 'default'; readonly center: null; readonly width: null };
export const SYSTEMATIC_WINDOWS: readonly SystematicWindow[] = Object.freeze(
  contract.systematicWindows as SystematicWindow[],
);

/** Barin et al. 2021's three-channel stack: brain, subdural, soft tissue. */
export const ENSEMBLE_STACK_WINDOWS: readonly NamedWindow[] = Object.freeze(contract.ensembleStackWindows);

/** Clip to the window and normalise to [0, 1]. */
export function applyWindow(hu: number, window: Window): number {
  const low = window.center - window.width / 2;
  const v = (hu - low) / window.width;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Window a whole slice into 8-bit grey levels (for display and montages). */
export function windowToGrey(hu: ArrayLike<number>, window: Window, out?: Uint8ClampedArray): Uint8ClampedArray {
  const grey = out ?? new Uint8ClampedArray(hu.length);
  const low = window.center - window.width / 2;
  const scale = 255 / window.width;
  for (let i = 0; i < hu.length; i++) {
    grey[i] = ((hu[i] as number) - low) * scale;
  }
  return grey;
}
