// Waiting on a condition instead of sleeping a fixed time (see src/demo/wait.ts).
export { sleep, waitFor } from '../../src/demo/wait.js';
