// The native libhdf5 surface of the addon (native/h5*.cc), declared in src/native/surface.ts
// with the rest of the addon. Only src/h5/index.ts uses it; nothing here leaves src/h5.
import { nativeAddon, type H5Addon } from '../native/surface.js';

export type {
  Bytes,
  H5Addon as NativeH5,
  Handle,
  NativeAttribute,
  NativeDatasetData,
  NativeDatasetInfo,
  NativeErrorFields,
  NativeFilter,
  NativeTypeName,
} from '../native/surface.js';

export function nativeH5(): H5Addon {
  return nativeAddon();
}
