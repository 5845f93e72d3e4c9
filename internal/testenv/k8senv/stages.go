package k8senv

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FaultAnnotation on a pod (or a pod template) selects one of the kwok stages
// in stages/ that make the pod fail the way a kubelet would report it. Use
// PodFault.Annotations rather than setting it alone.
const FaultAnnotation = "k8senv.furrow.dev/fault"

// PodFault is a failure kwok plays for a pod annotated with it.
type PodFault string

// The faults the embedded stages play.
const (
	// FaultImagePull: containers wait in ErrImagePull, then ImagePullBackOff,
	// with the image in the message.
	FaultImagePull PodFault = "image-pull"
	// FaultCrashLoop: the pod is Running, its containers wait in
	// CrashLoopBackOff with a terminated last state (exit code 1) and a
	// restartCount that grows every few seconds.
	FaultCrashLoop PodFault = "crash-loop"
	// FaultNeverReady: the containers run but the pod stays Ready=False, with
	// an Unhealthy "Readiness probe failed" event.
	FaultNeverReady PodFault = "never-ready"
)

// Annotations returns what a pod template needs to play the fault: the
// selector of our stage, and a zero weight for kwok's own pod-ready stage so
// that it never wins the random pick between matching stages.
func (f PodFault) Annotations() map[string]string {
	return map[string]string{
		FaultAnnotation:                        string(f),
		"pod-ready.stage.kwok.x-k8s.io/weight": "0",
	}
}

//go:embed stages/*.yaml
var stageFiles embed.FS

// writeStages copies the embedded stage configs into dir/stages for kwok's
// --config and returns their paths.
func writeStages(dir string) ([]string, error) {
	out := filepath.Join(dir, "stages")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", out, err)
	}
	names, err := fs.Glob(stageFiles, "stages/*.yaml")
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, n := range names {
		data, err := stageFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(out, filepath.Base(n))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", p, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
