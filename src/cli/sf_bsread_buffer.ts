#!/usr/bin/env node
// sf_bsread_buffer: parse arguments, build the parts, wire them, handle signals. No logic here.
//   exit 0: stopped by SIGTERM/SIGINT; 1: unrecoverable error (port, dispatcher); 2: usage.
import { CommanderError } from 'commander';
import type { FastifyInstance } from 'fastify';
import { parseBufferArgs, type BufferConfig } from './buffer-options.js';
import { UsageError } from './option-parsers.js';
import { BufferService, type BufferServiceOptions } from '../buffer/buffer-service.js';
import { startStatusServer } from '../buffer/status-server.js';
import { readChannelsFile } from '../dispatcher/channels-file.js';
import { DispatcherClient } from '../dispatcher/dispatcher-client.js';
import { errorMessage } from '../errors.js';
import { subjectOf } from '../jetstream/index.js';
import { createLogger, type Logger } from '../log.js';
import { keepFreedMemoryInProcess } from '../native/malloc-tuning.js';
import { letHeapGrowForBuffers } from '../runtime/heap-growth.js';

function fail(log: Logger | null, message: string, code: number): never {
  if (log !== null) log.fatal(message);
  process.stderr.write(`sf_bsread_buffer: error: ${message}\n`);
  process.exit(code);
}

/** The command line, or exit 2 with the usage error (exit 0 for --help). */
function parseOrExit(argv: string[]): BufferConfig {
  try {
    return parseBufferArgs(argv);
  } catch (e) {
    if (e instanceof CommanderError) process.exit(e.exitCode);
    if (e instanceof UsageError) {
      process.stderr.write(`sf_bsread_buffer: error: ${e.message}\nTry 'sf_bsread_buffer --help'.\n`);
      process.exit(2);
    }
    throw e;
  }
}

interface FirstStream {
  address: string;
  /** With -c: what the buffer needs to request the stream again when it ends. */
  dispatcher?: BufferServiceOptions['dispatcher'];
  /** Deletes the stream when the buffer could not start (once started, the buffer deletes it). */
  remove(): Promise<void>;
}

/**
 * With -c: a stream of the file's channels from the dispatcher. This first request failing is
 * fatal (exit 1: a wrong URL or channels file); later ones are retried by the buffer.
 */
async function dispatcherStream(cfg: BufferConfig, log: Logger): Promise<FirstStream> {
  const channels = await readChannelsFile(cfg.channelsFile!);
  const dispatcher = new DispatcherClient(cfg.dispatcherUrl);
  log.info({ channels: channels.length, dispatcher: dispatcher.baseUrl }, 'requesting a stream from the dispatcher');
  const streamType = cfg.mode === 'sub' ? 'pub_sub' : 'push_pull';
  const address = await dispatcher.requestStream(channels, { streamType });
  log.info({ stream: address }, 'dispatcher stream ready');
  return {
    address,
    dispatcher: { client: dispatcher, channels, streamType, stream: address },
    async remove(): Promise<void> {
      try {
        await dispatcher.deleteStream(address);
        log.info({ stream: address }, 'dispatcher stream deleted');
      } catch (e) {
        log.warn({ err: errorMessage(e) }, 'could not delete the dispatcher stream (the dispatcher removes idle streams itself)');
      }
    },
  };
}

/** Kept when --buffer_seconds is not given: JetStream keeps the recent past for an hour. */
export const DEFAULT_STREAM_SECONDS = 3600;

function jetStreamOptions(cfg: BufferConfig, log: Logger): BufferServiceOptions['jetStream'] {
  const j = cfg.jetStream;
  if (j === null) return undefined;
  return {
    servers: j.servers,
    stream: {
      name: j.stream,
      subject: subjectOf(j.stream),
      maxAgeMs: (cfg.bufferSeconds ?? DEFAULT_STREAM_SECONDS) * 1000,
      maxBytes: cfg.bufferBytes,
      replicas: j.replicas,
      duplicateWindowMs: 120_000,
    },
    onFatal: (e) => fail(log, e.message, 1),
  };
}

function serviceOptions(cfg: BufferConfig, input: FirstStream, log: Logger): BufferServiceOptions {
  return {
    jetStream: jetStreamOptions(cfg, log),
    dispatcher: input.dispatcher,
    inputAddress: input.address,
    inputMode: cfg.mode,
    inputReader: cfg.inputReader,
    outputAddress: `tcp://${cfg.bindHost}:${cfg.outputPort}`,
    replayAddress: `tcp://${cfg.bindHost}:${cfg.replayPort}`,
    bindHost: cfg.bindHost,
    limits: {
      maxMessages: cfg.bufferLength,
      maxAgeMs: cfg.bufferSeconds === null ? undefined : cfg.bufferSeconds * 1000,
      maxBytes: cfg.bufferBytes ?? undefined,
    },
    analyzer: cfg.analyzer,
    consumerIdleMs: cfg.consumerIdleS * 1000,
    log,
  };
}

async function main(): Promise<void> {
  const cfg = parseOrExit(process.argv.slice(2));
  const log = createLogger('sf_bsread_buffer', cfg.logLevel);
  keepFreedMemoryInProcess(log);
  letHeapGrowForBuffers(log);

  let stream: FirstStream = { address: cfg.stream!, remove: async () => {} };
  if (cfg.channelsFile !== null) {
    try {
      stream = await dispatcherStream(cfg, log);
    } catch (e) {
      fail(log, errorMessage(e), 1);
    }
  }

  let service: BufferService;
  try {
    service = await BufferService.start(serviceOptions(cfg, stream, log));
  } catch (e) {
    await stream.remove();
    fail(log, errorMessage(e), 1);
  }

  let http: FastifyInstance | null = null;
  if (cfg.statusPort !== null) {
    try {
      http = await startStatusServer({ status: () => service.status(), history: (since) => service.historySamples(since) }, cfg.bindHost, cfg.statusPort);
      log.info({ port: cfg.statusPort }, 'status server listening');
    } catch (e) {
      await service.stop();
      fail(log, errorMessage(e), 1);
    }
  }

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) {
      log.warn(`second ${signal}: exiting at once`);
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    await service.stop(); // deletes the dispatcher stream, the one requested last
    if (http !== null) await http.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((e: unknown) => {
  process.stderr.write(`sf_bsread_buffer: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
