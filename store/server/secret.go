package server

import "github.com/furrowdev/furrow/config"

// Secret is a configuration value that never prints itself (config.Secret).
type Secret = config.Secret
