export { checkStreamName, isNatsAddress, parseJetStreamAddress, parseServerList, subjectOf, type JetStreamAddress } from './address.js';
export { ensureStream, isStreamNotFound, JetStreamConnection, type StreamSettings } from './connection.js';
export { JetStreamPublisher, type JetStreamStatus, type PublishSource, type PublisherOptions } from './publisher.js';
export { findStartSequence, JetStreamReader, type ReceivedRecord } from './reader.js';
export * from './record.js';
