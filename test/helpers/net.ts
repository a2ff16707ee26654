// Free loopback ports for the programs a test starts (see src/demo/ports.ts).
export { freePort } from '../../src/demo/ports.js';
