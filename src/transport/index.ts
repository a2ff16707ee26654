export { parseStreamAddress, type TcpAddress } from './address.js';
export { StreamReceiver, RECEIVE_MODES, type ReceiveMode, type StreamReceiverOptions } from './receiver.js';
export { StreamSender, SEND_MODES, type SendMode, type StreamSenderOptions } from './sender.js';
export {
  NativeStreamReceiver,
  messageFrames,
  uint8Views,
  type NativeMessage,
  type NativeReceiverOptions,
} from './native-receiver.js';
export { NativeStreamSender } from './native-sender.js';
