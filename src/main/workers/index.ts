/** Worker threads that run the app's TypeScript under plain Node, Electron and the tests alike. */
export { startWorker, workerUrl } from './spawn.js';
