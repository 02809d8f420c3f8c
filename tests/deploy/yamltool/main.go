// Command rollsync-yamltool gives the deploy tests what Python's standard library lacks:
//
//	rollsync-yamltool json FILE...   every YAML document of every FILE, as one JSON array
//	rollsync-yamltool compose FILE   FILE loaded, validated and normalised by compose-go, the library behind
//	                                 `docker compose config`, printed as JSON (interpolated from the environment)
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
		fail(errors.New("usage: rollsync-yamltool json FILE... | compose FILE"))
	}
	var err error
	switch os.Args[1] {
	case "json":
		err = toJSON(os.Args[2:])
	case "compose":
		err = compose(os.Args[2])
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
