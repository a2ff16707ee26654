export { parseStreamAddress, type TcpAddress } from './address.js';
export { StreamReceiver, RECEIVE_MODES, type ReceiveMode, type StreamReceiverOptions } from './receiver.js';
export type { SendMode, StreamSenderOptions } from './sender.js';
export {
  NativeStreamReceiver,
  messageFrames,
  uint8Views,
  type NativeMessage,
  type NativeReceiverOptions,
  type ReceiveReader,
  RECEIVE_READERS,
  resolveInputReader,
} from './native-receiver.js';
export { NativeStreamSender } from './native-sender.js';
export { packFrames, frameViews, frameCount, type PackedFrames } from './packed-frames.js';
export { PushEndpoint, RouterEndpoint, requestReply, type PushEndpointOptions } from './zmq-endpoints.js';
export { Wakeup } from './wakeup.js';
