// The public face of src/sim: simulated bsread sources and the embedded dispatcher.
export {
  buildProfile,
  channelSpecsOf,
  checkProfileSpec,
  defaultChannelSpecs,
  loadProfileFile,
  mergeSpecs,
  parseCameraSize,
  parseProfileText,
  selectChannels,
  DEFAULT_RATE,
  DEFAULT_SEED,
  GENERATORS,
  type CameraSpec,
  type ChangeSpec,
  type ChannelSegment,
  type ChannelSpec,
  type Generator,
  type MissingRule,
  type ProfileSpec,
  type SimChannel,
  type SimProfile,
  type ValueKind,
} from './profile.js';
export {
  anyDue,
  definitionAt,
  isDue,
  isGap,
  isPresent,
  nthPulseId,
  predictMessage,
  pulseIdAt,
  pulseTimestamp,
  simulatedValue,
  PULSE_EPOCH_SEC,
  PULSES_PER_SECOND,
} from './values.js';
export { encodeSimulatedMessage, HeaderCache } from './message.js';
export { PreEncodedCycle, MAX_PRE_ENCODED, type PackedMessage } from './pre-encoded.js';
export { Simulator, type SimulatorOptions, type SimulatorStats } from './simulator.js';
export { CAMERA_NAME, scalarName, waveformName } from './names.js';
export { SimDispatcher, type DispatcherOptions, type StreamInfo, type StreamType } from './dispatcher.js';
