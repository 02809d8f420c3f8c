// Command rollsync-yamltool gives the deploy tests what Python's standard library lacks:
//
//	rollsync-yamltool json FILE...   every YAML document of every FILE, as one JSON array
//	rollsync-yamltool compose FILE   FILE loaded, validated and normalised by compose-go, the library behind
//	                                 `docker compose config`, printed as JSON (interpolated from the environment)
//	rollsync-yamltool prometheusrule ALERTS_FILE   the Prometheus rule file as a Prometheus Operator
//	                                 PrometheusRule (deploy/k8s/components/monitoring/prometheusrule.yaml)
//
// Built by scripts/ops_tools.sh into .local/tools/bin; the deploy tests shell out to it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
	"go.yaml.in/yaml/v3"
)

func main() {
	if len(os.Args) < 3 {
		fail(errors.New("usage: rollsync-yamltool json FILE... | compose FILE | prometheusrule ALERTS_FILE"))
	}
	var err error
	switch os.Args[1] {
	case "json":
		err = toJSON(os.Args[2:])
	case "compose":
		err = compose(os.Args[2])
	case "prometheusrule":
		err = prometheusRule(os.Args[2])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rollsync-yamltool:", err)
	os.Exit(1)
}

func toJSON(files []string) error {
	docs := []any{}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		dec := yaml.NewDecoder(f)
		for {
			var doc any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Close()
				return fmt.Errorf("%s: %w", name, err)
			}
			if doc != nil {
				docs = append(docs, doc)
			}
		}
		f.Close()
	}
	return json.NewEncoder(os.Stdout).Encode(docs)
}

func compose(file string) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	opts, err := cli.NewProjectOptions(
		[]string{abs},
		cli.WithOsEnv,
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		cli.WithName("rollsync"),
	)
	if err != nil {
		return err
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		return err
	}
	out, err := project.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(append(out, '\n'))
	return err
}

const ruleHeader = `# Generated from deploy/prometheus/alerts.yml: do not edit here. Regenerate with
#   .local/tools/bin/rollsync-yamltool prometheusrule deploy/prometheus/alerts.yml \
#       > deploy/k8s/components/monitoring/prometheusrule.yaml
# (tests/deploy/test_prometheus.py fails while the two differ).
`

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i < len(kv); i += 2 {
		v, ok := kv[i+1].(*yaml.Node)
		if !ok {
			v = scalar(kv[i+1].(string))
		}
		n.Content = append(n.Content, scalar(kv[i].(string)), v)
	}
	return n
}

func prometheusRule(file string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	root := doc.Content[0]
	var groups *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "groups" {
			groups = root.Content[i+1]
		}
	}
	if groups == nil {
		return fmt.Errorf("%s has no groups", file)
	}
	clearComments(groups)
	rule := mapping(
		"apiVersion", "monitoring.coreos.com/v1",
		"kind", "PrometheusRule",
		"metadata", mapping("name", "rollsync-alerts", "labels", mapping("app.kubernetes.io/part-of", "rollsync")),
		"spec", mapping("groups", groups),
	)
	if _, err := os.Stdout.WriteString(ruleHeader); err != nil {
		return err
	}
	enc := yaml.NewEncoder(os.Stdout)
	enc.SetIndent(2)
	if err := enc.Encode(rule); err != nil {
		return err
	}
	return enc.Close()
}

func clearComments(n *yaml.Node) {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, c := range n.Content {
		clearComments(c)
	}
}
