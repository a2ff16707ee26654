// The public face of src/bsread: what the buffer, the writer, the CLI and the simulator use.
// Anything not re-exported here is internal to the protocol module.

// The one table of types and the wire strings.
export {
  BSREAD_TYPES,
  COMPRESSIONS,
  DATA_HTYPE,
  ENCODINGS,
  MAIN_HTYPE,
  MAIN_HTYPE_PREFIX,
  TYPES,
  isBsreadType,
  isCompression,
  type BsreadType,
  type ChannelDef,
  type ChannelEntry,
  type Compression,
  type Encoding,
  type InvalidChannelDef,
  type NumericType,
  type Timestamp,
  type TypeInfo,
  type TypedArray,
} from './types.js';

// Headers. readMainHeader is the buffer's hot path: it reads frame 0 only.
export { readMainHeader, readMainHeaderFrame, parseDataHeader, type DataHeader, type MainHeader, type NotDataMessage } from './header.js';

// Receiving: a long-lived receiver (header cache) opens lazy messages.
export { BsreadMessage, BsreadReceiver, decodeMessage, md5hex, type ChannelError, type OpenResult, type ReceiverOptions, type ReceiverStats } from './message.js';

// A message's frames as one block plus boundaries (native receiver, packed replay framing).
export { frameAt, PackedFrameList, type MessageFrames } from '../transport/frame-list.js';

// Single values, for code that holds a ChannelDef and a frame.
export { decodeTimestamp, decodeValue, expectedBytes, isScalarShape, valueBytesLE, type ChannelValue, type NdArray } from './codec.js';

// Sending.
export {
  encodeMessage,
  encodeMainHeader,
  encodeTimestamp,
  encodeValue,
  prepareDataHeader,
  resolveChannelDef,
  type ChannelDefInput,
  type EncodeChannel,
  type EncodeMessageInput,
  type NdArrayInput,
  type PreparedDataHeader,
  type ScalarInput,
  type ValueInput,
} from './encode.js';

// The fixtures' JSON value format (bsread receive --json).
export { formatMessageJson, messageToJson, valueToJson, type JsonArray, type JsonChannel, type JsonMessage, type JsonNumber, type JsonValue } from './json.js';
