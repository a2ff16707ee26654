// The rules for the writer's output path, in one place: the command line checks them at start-up,
// the acquisition at each start, SwissFelFile when it creates the file. (A symbolic link at the
// path is refused when the file is created, by H5File.create.)
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BsreadError, errorMessage } from '../errors.js';

/** The output path that writes nothing: the whole file is built in memory and dropped. */
export const DEV_NULL = '/dev/null';

/** A usable path, made absolute ('/dev/null' as is). Throws BSREAD_ERR_OUTPUT_PATH. */
export function resolveOutputPath(path: string): string {
  if (typeof path !== 'string' || path.trim() === '' || path.includes('\0')) {
    throw new BsreadError('BSREAD_ERR_OUTPUT_PATH', `output_file ${JSON.stringify(path)} is not a usable path`);
  }
  return path === DEV_NULL ? path : resolve(path);
}

/**
 * Refuses a path that is a folder (BSREAD_ERR_OUTPUT_PATH) or an existing file when overwriting
 * is not allowed (BSREAD_ERR_FILE_EXISTS, HTTP 409); `howToProceed` ends that message.
 */
export function refuseExisting(path: string, overwrite: boolean, howToProceed: string): void {
  if (path === DEV_NULL || !existsSync(path)) return;
  if (statSync(path).isDirectory()) throw new BsreadError('BSREAD_ERR_OUTPUT_PATH', `output file ${path} is a folder`);
  if (!overwrite) throw new BsreadError('BSREAD_ERR_FILE_EXISTS', `output file ${path} exists already; ${howToProceed}`, { httpStatus: 409 });
}

/** Creates the folder of `path` if needed and checks that it can be written into. */
export function makeOutputFolder(path: string): void {
  if (path === DEV_NULL) return;
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new BsreadError('BSREAD_ERR_OUTPUT_PATH', `cannot write into the output folder ${dir}: ${errorMessage(e)}`, { cause: e });
  }
}

/** Checks that the folder of `path` exists and is a folder (without creating it). */
export function checkOutputFolder(path: string): void {
  if (path === DEV_NULL) return;
  const folder = dirname(resolve(path));
  let st;
  try {
    st = statSync(folder);
  } catch {
    throw new BsreadError('BSREAD_ERR_OUTPUT_PATH', `cannot create ${path}: folder ${folder} does not exist`);
  }
  if (!st.isDirectory()) throw new BsreadError('BSREAD_ERR_OUTPUT_PATH', `cannot create ${path}: ${folder} is not a folder`);
}
