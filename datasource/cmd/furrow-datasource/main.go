// Command furrow-datasource is the backend of furrow's Grafana datasource
// plugin; Grafana starts it (see datasource/plugin.json).
package main

import (
	"os"

	sdkds "github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/furrowdev/furrow/datasource"
)

func main() {
	if err := sdkds.Manage(datasource.PluginID, datasource.NewDatasource, sdkds.ManageOpts{}); err != nil {
		log.DefaultLogger.Error(err.Error())
		os.Exit(1)
	}
}
