// Package filewatch tells when a file an agent applies (the inventory, the
// flow log configuration) has changed, by its modification time and size,
// and polls it, so that a watcher reads and applies it only then, and
// reports a missing or unreadable file once rather than at every tick.
//
// Polling a stat rather than using inotify follows the symlink swaps of a
// mounted ConfigMap and the rename-over of editors, which inotify watches
// lose track of, costs one syscall per interval, and needs no dependency.
package filewatch
