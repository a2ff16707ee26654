// The replay protocol between the buffer and its writers (docs/replay-protocol.md): the JSON
// requests and replies and the packed framing (messages.ts), the client the writer uses
// (client.ts) and the service the buffer runs over a ReplayStore (service.ts).
export * from './messages.js';
export {
  openReplay,
  probeReplayService,
  replayRequest,
  replayServiceAddress,
  ReplayStreamReceiver,
  type OpenReplayOptions,
  type ReplayServiceInfo,
  type ReplaySession,
} from './client.js';
export { ReplayService, type ConsumerStatus, type ReplayMessage, type ReplayQueue, type ReplayRegistration, type ReplayServiceOptions, type ReplayStore } from './service.js';
