// The project's one error catalogue. Every error we throw on purpose is a BsreadError with a
// stable `code`; REST replies, logs and counters key on the code, never on the message text.

export const ERROR_CODES = {
  BSREAD_ERR_MALFORMED: 'a received bsread message is malformed',
  BSREAD_ERR_INVALID_ARGUMENT: 'a command-line argument or request value is invalid',
  BSREAD_ERR_ACQUISITION_ACTIVE: 'an acquisition is already running',
  BSREAD_ERR_INVALID_STATE: 'the request does not fit the current state',
  BSREAD_ERR_FILE_EXISTS: 'the output file exists already',
  BSREAD_ERR_OUTPUT_PATH: 'the output path cannot be used',
  BSREAD_ERR_DISK_FULL: 'the output disk is (almost) full',
  BSREAD_ERR_CHANNELS_FILE: 'the channels file cannot be used',
  BSREAD_ERR_DISPATCHER: 'the dispatcher refused or gave an unusable reply',
  BSREAD_ERR_TRANSPORT: 'a ZeroMQ socket could not be used',
  BSREAD_ERR_ADDON: 'the native addon is missing or failed',
  BSREAD_ERR_COMPRESSION: 'compressed data is corrupt',
  BSREAD_ERR_REPLAY: 'the buffer cannot replay the requested pulses',
  BSREAD_ERR_JETSTREAM: 'the NATS JetStream server or stream cannot be used',
  H5_ERR: 'the HDF5 library reported an error',
  H5_ERR_CLOSED: 'an HDF5 handle was used after close',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class BsreadError extends Error {
  readonly code: ErrorCode;
  /** HTTP status a REST layer should use; the original writer answered 200 for everything. */
  readonly httpStatus: number;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; httpStatus?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BsreadError';
    this.code = code;
    this.httpStatus = options.httpStatus ?? 400;
  }
}

/**
 * Why a message was dropped. A closed set, so receivers can count by kind and log the first
 * of each kind (as bsread_rust's EndpointDiag does).
 */
export const MALFORMED_KINDS = [
  'frame_count', // not 2 + 2 × channels frames
  'bad_json', // a header frame is not valid JSON (or not an object)
  'bad_htype', // main header htype does not start with bsr_m
  'missing_field', // a required header field is absent (pulse_id, hash, channels, name, ...)
  'bad_field', // a header field has the wrong type or an impossible value
  'unknown_type', // a channel type outside the 12 bsread types
  'unknown_compression', // compression / dh_compression outside none|bitshuffle_lz4|lz4
  'decompress', // compressed bytes are corrupt or do not match their declared size
  'size_mismatch', // value bytes do not equal type size × number of elements
  'bad_timestamp', // a timestamp frame that is neither empty nor 16 bytes
] as const;

export type MalformedKind = (typeof MALFORMED_KINDS)[number];

export class MalformedMessageError extends BsreadError {
  readonly kind: MalformedKind;
  /** The channel the problem is in, when it is in one channel. */
  readonly channel: string | undefined;

  constructor(kind: MalformedKind, detail: string, channel?: string, options: { cause?: unknown } = {}) {
    super('BSREAD_ERR_MALFORMED', channel === undefined ? `${kind}: ${detail}` : `${kind} in channel ${channel}: ${detail}`, options);
    this.name = 'MalformedMessageError';
    this.kind = kind;
    this.channel = channel;
  }
}

export class H5Error extends BsreadError {
  /** The libhdf5 function that failed, e.g. H5Dcreate2. */
  readonly h5Function: string | undefined;

  constructor(message: string, h5Function?: string, options: { cause?: unknown; code?: 'H5_ERR' | 'H5_ERR_CLOSED' } = {}) {
    super(options.code ?? 'H5_ERR', message, { cause: options.cause, httpStatus: 500 });
    this.name = 'H5Error';
    this.h5Function = h5Function;
  }
}

/** A message for logs and REST replies from anything thrown. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
