/**
 * @module image-build/guest/spawn
 * The guest build starts its processes (apt, dpkg-deb, mtools, syslinux, qemu-img, qemu) through
 * the build stage's process module. Every call in src/build/guest goes through this one import, so
 * the module can be swapped in one place.
 */
export { commandOutput, type ExecOptions, type ExecResult, execFile } from '../exec.js';
