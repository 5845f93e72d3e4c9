// This directory is the plugin's TypeScript frontend (npm). The go.mod
// only keeps `go test ./...` and `go vet ./...` out of node_modules.
module github.com/furrowdev/furrow/datasource/frontend

go 1.26
