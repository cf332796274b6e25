// Package image checks the Fovea image `make image` builds against the
// Dockerfile, without a container engine: it reads the image tarball and
// the Dockerfile, and runs the Dockerfile's build stage the way Docker
// would, in a copy of the build context, to compare the binaries byte for
// byte. Run it with `make image-test` (FOVEA_IMAGE names the tarball,
// OCIBUILD_BIN the tool that packed it).
package image
