package windows

// The fixtures under testdata/.
//go:generate go run ./internal/genfixtures -out testdata
