package windows

//go:generate go run ./internal/genfixtures -out testdata
