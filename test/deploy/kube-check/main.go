// Command kube-check reads rendered manifests (multi-document YAML, as `helm template`
// prints them) on stdin and decodes each into its typed Kubernetes API struct with unknown
// and duplicate fields rejected — what the API server's strict field validation does — so
// a misspelt field in a template fails offline instead of being dropped silently at
// install time. Custom resources it has no types for are listed as unchecked.
//
// Exit status: 0 when every known object decodes strictly, 1 otherwise.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func typed(gvk string) (any, bool) {
	switch gvk {
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1/Secret":
		return &corev1.Secret{}, true
	case "v1/Service":
		return &corev1.Service{}, true
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, true
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, true
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, true
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, true
	}
	return nil, false
}

func main() {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(os.Stdin))
	failed := false
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Printf("error reading input: %v\n", err)
			os.Exit(1)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var meta struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			fmt.Printf("invalid YAML: %v\n", err)
			failed = true
			continue
		}
		gvk := meta.APIVersion + "/" + meta.Kind
		id := meta.Kind + "/" + meta.Metadata.Name
		obj, known := typed(gvk)
		if !known {
			fmt.Printf("unchecked %s (%s)\n", id, meta.APIVersion)
			continue
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			fmt.Printf("invalid %s: %v\n", id, err)
			failed = true
			continue
		}
		fmt.Printf("ok %s\n", id)
	}
	if failed {
		os.Exit(1)
	}
}
